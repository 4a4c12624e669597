//! Real gateways in front of `keysmith serve`: Debian's nginx with
//! `auth_request` (and the headers-more module) and Debian's Caddy with
//! `forward_auth`, each configured with the recipe of the docs' "Behind a
//! gateway" page, read from docs/src/gateways.md itself, with only the
//! test's ports and folder put in: the documented configuration is the one
//! tested. In front of
//! a tiny API of the test's own that answers with the request it got, so
//! that every header reaching it is seen. The gateways run from the test's
//! own folder and ports, as root or not. On both backends (the store comes
//! from `Env`).
//!
//! The same cases for both: a valid key (either header), forged
//! `X-Keysmith-*` headers of any name, a missing, malformed or unknown key,
//! another service's key, a disabled or expired key, a key disabled by
//! `keysmith disable` between two
//! requests, a key's exact uses, its rate limit (with `Retry-After` and
//! `X-Keysmith-Code` checked at the client), and serve gone.
//!
//! Without nginx (or its headers-more module), or without caddy, at build
//! time (see build.rs), that gateway's test is ignored, with the reason: it
//! never passes without testing anything.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{Env, spawn};
use crate::serve::{Reply, Server, wait};

const RECIPES: &str = include_str!("../../docs/src/gateways.md");

/// The fenced block of `lang` that follows `after` in docs/src/gateways.md.
fn recipe_block(after: &str, lang: &str) -> &'static str {
    let from = RECIPES
        .find(after)
        .unwrap_or_else(|| panic!("docs/src/gateways.md has no {after:?}"));
    let fence = format!("```{lang}\n");
    let start = RECIPES[from..]
        .find(&fence)
        .map(|i| from + i + fence.len())
        .unwrap_or_else(|| panic!("no ```{lang} block after {after:?} in docs/src/gateways.md"));
    let end = RECIPES[start..].find("\n```").expect("the block ends") + start;
    &RECIPES[start..=end]
}

/// `text` with `from` replaced by `to`, which must be there: a recipe that
/// changed shape fails here rather than running something else.
fn put(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the documented recipe no longer has {from:?}:\n{text}"
    );
    text.replace(from, to)
}

/// The recipes' addresses, and what the tests put in their place.
const RECIPE_SERVE: &str = "127.0.0.1:7207";
const RECIPE_API: &str = "127.0.0.1:8080";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Nginx,
    Caddy,
}

/// A gateway in the foreground, every file it writes in `dir`.
struct Gateway {
    kind: Kind,
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Gateway {
    fn start(kind: Kind, dir: &Path, serve: &str, api: u16) -> Gateway {
        Gateway::start_as(kind, dir, serve, api, None)
    }

    /// `start`, run as `user` (uid, gid; root only), its folder given to it.
    fn start_as(
        kind: Kind,
        dir: &Path,
        serve: &str,
        api: u16,
        user: Option<(u32, u32)>,
    ) -> Gateway {
        let port = free_port();
        let api = format!("127.0.0.1:{api}");
        let (dir, mut cmd) = match kind {
            Kind::Nginx => {
                let dir = dir.join("nginx");
                std::fs::create_dir_all(dir.join("tmp")).unwrap();
                let conf = nginx_config(&dir, port, serve, &api);
                std::fs::write(dir.join("nginx.conf"), conf).unwrap();
                // The one build.rs found; without one the test is ignored
                // (run anyway, with --ignored: whichever is on PATH).
                let nginx = option_env!("KEYSMITH_TEST_NGINX").unwrap_or("nginx");
                let d = dir.to_str().expect("a UTF-8 path");
                let mut cmd = Command::new(nginx);
                cmd.env_clear()
                    // -e: the error log from the start, before the
                    // configuration is read (else the package's
                    // /var/log/nginx/error.log).
                    .args(["-p", d, "-c", &format!("{d}/nginx.conf"), "-e"])
                    .arg(format!("{d}/error.log"));
                (dir, cmd)
            }
            Kind::Caddy => {
                let dir = dir.join("caddy");
                std::fs::create_dir_all(&dir).unwrap();
                let conf = caddy_config(port, serve, &api);
                std::fs::write(dir.join("Caddyfile"), conf).unwrap();
                let caddy = option_env!("KEYSMITH_TEST_CADDY").unwrap_or("caddy");
                let mut cmd = Command::new(caddy);
                // Its own HOME: Caddy keeps its data (certificates, locks)
                // under the XDG folders.
                cmd.env_clear()
                    .env("HOME", &dir)
                    .env("XDG_CONFIG_HOME", dir.join("config"))
                    .env("XDG_DATA_HOME", dir.join("data"))
                    .args(["run", "--adapter", "caddyfile", "--config"])
                    .arg(dir.join("Caddyfile"));
                (dir, cmd)
            }
        };
        if let Some((uid, gid)) = user {
            use std::os::unix::process::CommandExt;
            for entry in [dir.clone(), dir.join("tmp")] {
                std::os::unix::fs::chown(&entry, Some(uid), Some(gid)).unwrap();
            }
            cmd.uid(uid).gid(gid);
        }
        let log = std::fs::File::create(dir.join("stderr.log")).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        let child = spawn(&mut cmd);
        let mut gateway = Gateway {
            kind,
            child,
            port,
            dir,
        };
        gateway.wait_ready();
        gateway
    }

    /// What the gateway wrote of its errors (nginx's error log, Caddy's
    /// stderr).
    fn error_log(&self) -> String {
        let mut log = std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
        if self.kind == Kind::Nginx {
            log += &std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
        }
        log
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("{:?} exited ({status}): {}", self.kind, self.error_log());
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{:?} never answered: {}",
                self.kind,
                self.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET path` through the gateway with `headers`, `Connection: close`;
    /// the whole answer.
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the gateway");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut req = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
            self.port
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read the gateway's answer");
        Reply::parse(&String::from_utf8_lossy(&raw))
    }

    /// A graceful stop (nginx: SIGQUIT; Caddy: SIGTERM), then waits for it.
    fn stop(mut self) {
        let signal = match self.kind {
            Kind::Nginx => "-QUIT",
            Kind::Caddy => "-TERM",
        };
        let ok = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {signal} {:?}", self.kind);
        assert!(
            wait(&mut self.child, Duration::from_secs(20)).is_some(),
            "{:?} did not stop: {}",
            self.kind,
            self.error_log()
        );
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The documented nginx recipe in the test's main configuration: the test's
/// ports, and its folder for every file nginx writes.
fn nginx_config(dir: &Path, port: u16, serve: &str, api: &str) -> String {
    let recipe = recipe_block("**nginx** (`auth_request`)", "nginx");
    let recipe = put(
        recipe,
        "listen 443 ssl;",
        &format!("listen 127.0.0.1:{port};"),
    );
    let recipe = put(&recipe, RECIPE_SERVE, serve);
    let recipe = put(&recipe, RECIPE_API, api);
    let d = dir.display();
    // Debian loads the module through /etc/nginx/modules-enabled; this
    // configuration is nginx's whole configuration, so it loads it itself.
    let module = option_env!("KEYSMITH_TEST_NGINX_HEADERS_MORE")
        .unwrap_or("/usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so");
    format!(
        r#"load_module {module};
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;

events {{
    worker_connections 128;
}}

http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;

{recipe}
}}
"#
    )
}

/// The documented Caddy recipe, served over plain HTTP on the test's port, and
/// without the admin endpoint (its port, 2019, may be taken, or another
/// test's).
fn caddy_config(port: u16, serve: &str, api: &str) -> String {
    let recipe = recipe_block("**Caddy** (`forward_auth`)", "caddyfile");
    let recipe = put(recipe, "{\n\t# ", "{\n\tadmin off\n\t# ");
    let recipe = put(&recipe, "api.example.com {", &format!("http://:{port} {{"));
    let recipe = put(&recipe, RECIPE_SERVE, serve);
    put(&recipe, RECIPE_API, api)
}

/// A loopback port free a moment ago (the gateway binds it next).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The API behind the gateway: answers every request 200 with its head
/// (request line and headers, as received) as the body, after a marker.
struct Api {
    port: u16,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const API_SAW: &str = "the API saw:\r\n";

impl Api {
    fn start() -> Api {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let (stopping, count) = (stop.clone(), served.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let count = count.clone();
                std::thread::spawn(move || Api::answer(conn, &count));
            }
        });
        Api {
            port,
            stop,
            served,
            thread: Some(thread),
        }
    }

    /// Counted before it is answered: once the client has its answer,
    /// `served` includes it.
    fn answer(conn: TcpStream, served: &AtomicUsize) -> Option<()> {
        conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let mut reader = BufReader::new(conn.try_clone().ok()?);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            head.push_str(&line);
        }
        served.fetch_add(1, Ordering::SeqCst);
        let body = format!("{API_SAW}{head}");
        let mut conn = conn;
        write!(
            conn,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .ok()
    }

    fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The `X-Keysmith-*` headers that reached the API (names in lower case,
/// sorted), when the request did; `None` when the API never saw it.
fn reached(r: &Reply) -> Option<Vec<(String, String)>> {
    let head = r.body.strip_prefix(API_SAW)?;
    let mut found: Vec<(String, String)> = head
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        // An empty one is none (docs/src/gateways.md: serve sends the
        // owner empty for a key without one, which nginx drops and Caddy
        // passes on).
        .filter(|(k, v)| k.starts_with("x-keysmith-") && !v.is_empty())
        .collect();
    found.sort();
    Some(found)
}

fn keysmith_headers(id: &str, name: &str, service: &str) -> Option<Vec<(String, String)>> {
    Some(vec![
        ("x-keysmith-key-id".into(), id.into()),
        ("x-keysmith-key-name".into(), name.into()),
        ("x-keysmith-service".into(), service.into()),
    ])
}

/// A refusal as the client gets it: `status`, `X-Keysmith-Code: code`, and
/// nothing reached the API.
#[track_caller]
fn refused(r: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {r:#?}");
    assert_eq!(r.header("x-keysmith-code"), Some(code), "{what}: {r:#?}");
    assert_eq!(reached(r), None, "{what}: {r:#?}");
}

fn through_a_gateway(kind: Kind) {
    let env = Env::new();
    // Made first: it has expired by the time it is tried.
    let expiring = env.create("Soon", &["--expires-in", "1s", "--service", "sms"]);
    let began = Instant::now();
    let key = env.create("Data Sync", &["--service", "sms"]);
    let id = Env::id_of(&key);
    let mail = env.create("Mail", &["--service", "mail"]);
    let off = env.create("Off", &["--service", "sms"]);
    env.run(&["disable", &off]).code(0);
    let three = env.create("Three", &["--service", "sms", "--uses", "3"]);
    let limited = env.create("Limited", &["--service", "sms", "--rate", "2/10s"]);
    // The largest metadata (4096 bytes of compact JSON) made of 4-byte
    // characters: the largest X-Keysmith-Meta there can be, 12 KiB of `\u`
    // escapes, which the nginx recipe's buffer must take.
    let largest_meta = format!(r#"{{"e":"{}"}}"#, "🏔".repeat(1022));
    assert_eq!(largest_meta.len(), 4096);
    let owned = env.create(
        "Acme",
        &[
            "--service",
            "sms",
            "--owner",
            "acme",
            "--meta",
            &largest_meta,
        ],
    );
    // IP rules: the client (this test, on 127.0.0.1) is let through by one
    // key, refused by the other, whatever address it forges.
    let local = env.create("Local", &["--service", "sms", "--allow-ip", "127.0.0.1"]);
    let office = env.create("Office", &["--service", "sms", "--allow-ip", "10.0.0.0/8"]);
    // As the recipes say: nginx sets X-Real-IP, Caddy X-Forwarded-For.
    let header = if kind == Kind::Nginx {
        "x-real-ip"
    } else {
        "x-forwarded-for"
    };
    let serve = Server::start(
        &env,
        &[
            "--meta-header",
            "--trusted-proxy",
            "127.0.0.1",
            "--client-ip-header",
            header,
        ],
    );
    let api = Api::start();
    let gateway = Gateway::start(kind, env.dir.path(), &serve.addr, api.port);

    // A valid key, in either header, reaches the API with its id, name and
    // service, and with no other X-Keysmith-* header: those the client
    // forged, of any name, are gone.
    let bearer = format!("Bearer {key}");
    let forged = [
        ("X-Keysmith-Key-Id", "forged"),
        ("X-Keysmith-Key-Name", "forged"),
        ("X-Keysmith-Service", "mail"),
        ("X-Keysmith-Code", "VALID"),
        ("X-Keysmith-Scopes", "forged"),
        ("X-Keysmith-Admin", "yes"),
        ("X-Keysmith-Owner", "forged-owner"),
        ("X-Keysmith-Meta", r#"{"plan":"forged"}"#),
        ("x-keysmith-lowercase", "forged"),
    ];
    let expected = keysmith_headers(&id, "Data%20Sync", "sms");
    for headers in [
        vec![("Authorization", bearer.as_str())],
        vec![("X-API-Key", key.as_str())],
        [("X-API-Key", key.as_str())]
            .into_iter()
            .chain(forged)
            .collect(),
    ] {
        let r = gateway.get("/orders/42?page=1", &headers);
        assert_eq!(r.status, 200, "{r:#?}\n{}", gateway.error_log());
        assert_eq!(reached(&r), expected, "{headers:?}: {r:#?}");
        assert!(
            r.body
                .starts_with(&format!("{API_SAW}GET /orders/42?page=1 "))
        );
    }

    // A key with an owner and the largest metadata: the API gets the owner,
    // and, where the recipe passes it (nginx), the metadata as sent.
    let owned_id = Env::id_of(&owned);
    let r = gateway.get("/", &[("X-API-Key", owned.as_str()), forged[6], forged[7]]);
    assert_eq!(r.status, 200, "{r:#?}\n{}", gateway.error_log());
    let got = reached(&r).unwrap();
    let header = |name: &str| got.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(header("x-keysmith-key-id"), Some(owned_id.as_str()));
    assert_eq!(header("x-keysmith-owner"), Some("acme"));
    if kind == Kind::Nginx {
        let meta = header("x-keysmith-meta").expect("the metadata reaches the API");
        assert!(meta.len() > 12_000, "{}", meta.len());
        let parsed: serde_json::Value = serde_json::from_str(meta).unwrap();
        assert_eq!(
            parsed,
            serde_json::from_str::<serde_json::Value>(&largest_meta).unwrap()
        );
    } else {
        assert_eq!(header("x-keysmith-meta"), None, "{got:?}");
    }

    let forged_ip = [("X-Forwarded-For", "10.1.2.3"), ("X-Real-IP", "10.1.2.3")];
    let r = gateway.get(
        "/",
        &[&[("X-API-Key", local.as_str())][..], &forged_ip[..]].concat(),
    );
    assert_eq!(r.status, 200, "{r:#?}\n{}", gateway.error_log());
    let r = gateway.get(
        "/",
        &[&[("X-API-Key", office.as_str())][..], &forged_ip[..]].concat(),
    );
    refused(
        &r,
        403,
        "IP_NOT_ALLOWED",
        "an address outside the key's rules, forged or not",
    );

    // Missing (forged headers or not), malformed, unknown: 401, with
    // serve's challenge and code passed on.
    let unknown = keysmith::mint("ks");
    let forged_only: Vec<_> = forged.to_vec();
    for (what, headers, code) in [
        ("missing", vec![], "MALFORMED"),
        ("missing, forged headers", forged_only, "MALFORMED"),
        ("malformed", vec![("X-API-Key", "ks_nope")], "MALFORMED"),
        (
            "not bearer",
            vec![("Authorization", "Basic dXNlcjpwdw==")],
            "MALFORMED",
        ),
        (
            "unknown",
            vec![("X-API-Key", unknown.secret.expose())],
            "NOT_FOUND",
        ),
    ] {
        let r = gateway.get("/orders", &headers);
        refused(&r, 401, code, what);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"keysmith\""),
            "{what}: {r:#?}"
        );
    }

    // Another service's key: 403, whatever service the client asks for
    // (the gateway sets X-Keysmith-Service for serve).
    for headers in [
        vec![("X-API-Key", mail.as_str())],
        vec![("X-API-Key", mail.as_str()), ("X-Keysmith-Service", "mail")],
        vec![("X-API-Key", mail.as_str()), ("X-Keysmith-Service", "")],
    ] {
        let r = gateway.get("/orders?service=mail", &headers);
        refused(&r, 403, "WRONG_SERVICE", &format!("{headers:?}"));
    }
    // Disabled, expired: 403.
    if let Some(left) = Duration::from_millis(2100).checked_sub(began.elapsed()) {
        std::thread::sleep(left);
    }
    let r = gateway.get("/orders", &[("X-API-Key", &off)]);
    refused(&r, 403, "DISABLED", "disabled");
    let r = gateway.get("/orders", &[("X-API-Key", &expiring)]);
    refused(&r, 403, "EXPIRED", "expired");

    // Disabled by the CLI between two requests: refused by the very next
    // one, over the connections the gateway keeps open to serve.
    assert_eq!(gateway.get("/", &[("X-API-Key", &key)]).status, 200);
    env.run(&["disable", &id]).code(0);
    let r = gateway.get("/", &[("X-API-Key", &key)]);
    refused(&r, 403, "DISABLED", "disabled just now");
    env.run(&["enable", &id]).code(0);
    assert_eq!(gateway.get("/", &[("X-API-Key", &key)]).status, 200);

    // Exact uses: 3 pass, then USAGE_EXCEEDED; the API saw exactly 3.
    let before = api.served();
    let three_id = Env::id_of(&three);
    // A client's X-Keysmith-Cost: 0 changes nothing: each request still
    // spends one use (the cost comes from the gateway's auth URI only).
    for i in 0..3 {
        let r = gateway.get("/", &[("X-API-Key", &three), ("X-Keysmith-Cost", "0")]);
        assert_eq!(r.status, 200, "use {i}: {r:#?}");
        assert_eq!(reached(&r), keysmith_headers(&three_id, "Three", "sms"));
    }
    for _ in 0..2 {
        let r = gateway.get("/", &[("X-API-Key", &three)]);
        refused(&r, 403, "USAGE_EXCEEDED", "the fourth use");
    }
    assert_eq!(api.served() - before, 3);
    let shown = env.run(&["--json", "show", &three_id]).code(0).json();
    assert_eq!(shown["remaining_uses"], 0, "{shown}");

    // The rate limit: 2 pass, the third is 429 with Retry-After and its
    // code, at the client.
    let started = Instant::now();
    for i in 0..2 {
        let r = gateway.get("/", &[("X-API-Key", &limited)]);
        assert_eq!(r.status, 200, "request {i}: {r:#?}");
    }
    let r = gateway.get("/", &[("X-API-Key", &limited)]);
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "too slow to test"
    );
    refused(&r, 429, "RATE_LIMITED", "the third in 10 s");
    let retry: u64 = r
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {r:#?}"))
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "Retry-After: {retry}");
    if kind == Kind::Nginx {
        // What docs/src/gateways.md says nginx logs for it.
        let log = gateway.error_log();
        assert!(
            log.contains("[error]") && log.contains("auth request unexpected status: 429"),
            "{log}"
        );
    }

    // serve gone: the gateway fails closed (nginx 503, Caddy 502).
    let log = serve.stop();
    let r = gateway.get("/", &[("X-API-Key", &key)]);
    let down = if kind == Kind::Nginx { 503 } else { 502 };
    assert_eq!(r.status, down, "{r:#?}");
    assert_eq!(reached(&r), None, "{r:#?}");

    let errors = gateway.error_log();
    if kind == Kind::Caddy {
        // The request's headers quoted in Caddy's error log for that 502,
        // X-API-Key masked by the recipe's log filter.
        assert!(errors.contains(r#""X-Api-Key":"REDACTED""#), "{errors}");
    }
    gateway.stop();
    for secret in [
        &key, &mail, &off, &three, &limited, &expiring, &owned, &local, &office,
    ] {
        assert!(!log.contains(secret.as_str()), "{log}");
        assert!(!errors.contains(secret.as_str()), "{errors}");
    }
}

#[test]
#[cfg_attr(
    keysmith_no_nginx,
    ignore = "needs nginx and its headers-more module: apt-get install nginx libnginx-mod-http-headers-more-filter"
)]
fn nginx_auth_request_in_front_of_serve() {
    through_a_gateway(Kind::Nginx);
}

#[test]
#[cfg_attr(keysmith_no_caddy, ignore = "needs caddy: apt-get install caddy")]
fn caddy_forward_auth_in_front_of_serve() {
    through_a_gateway(Kind::Caddy);
}

/// docs/src/serve.md "Unix sockets": the gateway running as another user reaches serve
/// through the socket's group, given by a setgid folder, and nobody else's
/// does. nginx (the documented recipe, the upstream a unix socket) runs as a user
/// of its own; serve runs as the test's user, root.
#[test]
#[cfg_attr(
    keysmith_no_nginx,
    ignore = "needs nginx and its headers-more module: apt-get install nginx libnginx-mod-http-headers-more-filter"
)]
fn a_gateway_of_another_user_connects_through_the_socket_s_group() {
    use std::os::unix::fs::PermissionsExt;
    if !crate::common::running_as_root() {
        eprintln!("skipped: only root can run nginx as another user");
        return;
    }
    const GATEWAY: (u32, u32) = (54_322, 54_322);
    let env = Env::new();
    let key = env.create("K", &["--service", "sms"]);
    let id = Env::id_of(&key);
    // The test's folder is 0700: let the gateway's user through.
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = env.dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    let sock = run.join("serve.sock");
    let listen = format!("unix:{}", sock.display());
    let api = Api::start();
    let gateway = Gateway::start_as(
        Kind::Nginx,
        env.dir.path(),
        &listen,
        api.port,
        Some(GATEWAY),
    );
    let ask = || gateway.get("/", &[("X-API-Key", &key)]);

    // The folder the gateway may enter, the socket 0660 but root's group:
    // refused, and nginx says why.
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
    let serve = Server::start(&env, &["--listen", &listen]);
    let r = ask();
    assert_eq!((r.status, reached(&r)), (503, None), "{r:#?}");
    assert!(
        gateway.error_log().contains("Permission denied"),
        "{}",
        gateway.error_log()
    );
    serve.stop();

    // docs/src/serve.md's way: the folder setgid with the gateway's group, so the
    // socket is made in that group.
    std::os::unix::fs::chown(&run, Some(0), Some(GATEWAY.1)).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o2750)).unwrap();
    let serve = Server::start(&env, &["--listen", &listen]);
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&sock).unwrap();
        assert_eq!((meta.mode() & 0o777, meta.gid()), (0o660, GATEWAY.1));
    }
    let r = ask();
    assert_eq!(r.status, 200, "{r:#?}\n{}", gateway.error_log());
    assert_eq!(reached(&r), keysmith_headers(&id, "K", "sms"));
    serve.stop();

    // --socket-mode 0600: the owner alone, the group shut out again.
    let serve = Server::start(&env, &["--listen", &listen, "--socket-mode", "0600"]);
    let r = ask();
    assert_eq!((r.status, reached(&r)), (503, None), "{r:#?}");
    serve.stop();
    gateway.stop();
}

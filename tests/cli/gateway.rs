//! A real gateway in front of `keysmith serve`: Debian's nginx with
//! `auth_request`, configured as README "Serving verifications" shows, in
//! front of a tiny upstream (a second server of the same nginx, reached
//! through a proxy hop). Both run from the test's own folder and ports, as
//! root or not. On both backends (the store comes from `Env`).
//!
//! Without nginx at build time (see build.rs) the test is ignored, with the
//! reason: it never passes without testing anything.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Env, spawn};
use crate::serve::{Reply, Server, wait};

/// nginx in the foreground (`daemon off; master_process off;`), every file
/// it writes in `dir`.
struct Nginx {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Nginx {
    fn start(dir: &Path, serve: &str) -> Nginx {
        let dir = dir.join("nginx");
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        let (port, upstream) = (free_port(), free_port());
        let conf = config(&dir, port, upstream, serve);
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        // The one build.rs found; without one the test is ignored (run
        // anyway, with --ignored: whichever is on PATH).
        let nginx = option_env!("KEYSMITH_TEST_NGINX").unwrap_or("nginx");
        let d = dir.to_str().expect("a UTF-8 path");
        let mut cmd = Command::new(nginx);
        cmd.env_clear()
            // -e: the error log from the start, before the configuration
            // is read (else the package's /var/log/nginx/error.log).
            .args(["-p", d, "-c", &format!("{d}/nginx.conf"), "-e"])
            .arg(format!("{d}/error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = spawn(&mut cmd);
        let mut nginx = Nginx { child, port, dir };
        nginx.wait_ready();
        nginx
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("nginx exited ({status}): {}", self.error_log());
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nginx never answered: {}",
                self.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET path` through nginx with `headers`, `Connection: close`; the
    /// whole answer.
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to nginx");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read nginx's answer");
        Reply::parse(&String::from_utf8_lossy(&raw))
    }

    /// SIGQUIT (nginx's graceful stop), then waits for it.
    fn stop(mut self) {
        let ok = Command::new("kill")
            .args(["-QUIT", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -QUIT nginx");
        assert!(
            wait(&mut self.child, Duration::from_secs(20)).is_some(),
            "nginx did not stop: {}",
            self.error_log()
        );
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The README's nginx configuration, with the test's folder and ports; a
/// second server plays the upstream and says which key id reached it.
fn config(dir: &Path, port: u16, upstream: u16, serve: &str) -> String {
    let d = dir.display();
    format!(
        r#"daemon off;
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

    upstream keysmith {{
        server {serve};
        keepalive 16;
        keepalive_timeout 5s;  # under serve's 10 s for an idle connection
    }}

    server {{
        listen 127.0.0.1:{port};

        location / {{
            auth_request /_auth;
            auth_request_set $key_id $upstream_http_x_keysmith_key_id;
            auth_request_set $key_name $upstream_http_x_keysmith_key_name;
            auth_request_set $key_service $upstream_http_x_keysmith_service;
            auth_request_set $auth_status $upstream_status;
            # auth_request passes 401 and 403 on, anything else as 500.
            error_page 500 = @auth_failed;
            # Set (or, empty, dropped) whatever the client sent.
            proxy_set_header X-Keysmith-Key-Id $key_id;
            proxy_set_header X-Keysmith-Key-Name $key_name;
            proxy_set_header X-Keysmith-Service $key_service;
            proxy_pass http://127.0.0.1:{upstream};
        }}

        location = /_auth {{
            internal;
            proxy_pass http://keysmith/v1/auth;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Keysmith-Service sms;
        }}

        # serve rate-limited the key (429), or is down or without its store.
        location @auth_failed {{
            if ($auth_status = 429) {{
                return 429;
            }}
            return 503;
        }}
    }}

    server {{
        listen 127.0.0.1:{upstream};
        location / {{
            default_type text/plain;
            return 200 "upstream saw key $http_x_keysmith_key_id name $http_x_keysmith_key_name service $http_x_keysmith_service\n";
        }}
    }}
}}
"#
    )
}

/// A loopback port free a moment ago (nginx binds it next).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn saw(r: &Reply) -> Option<(&str, &str, &str)> {
    let rest = r
        .body
        .strip_prefix("upstream saw key ")?
        .strip_suffix('\n')?;
    let (id, rest) = rest.split_once(" name ")?;
    let (name, service) = rest.split_once(" service ")?;
    (r.status == 200).then_some((id, name, service))
}

#[test]
#[cfg_attr(keysmith_no_nginx, ignore = "needs nginx: apt-get install nginx")]
fn nginx_auth_request_in_front_of_serve() {
    let env = Env::new();
    // Made first: it has expired by the time it is tried.
    let expiring = env.create("Soon", &["--expires-in", "1s", "--service", "sms"]);
    let began = Instant::now();
    let key = env.create("Data Sync", &["--service", "sms"]);
    let id = Env::id_of(&key);
    let other = env.create("Other", &["--service", "sms"]);
    let mail = env.create("Mail", &["--service", "mail"]);
    let off = env.create("Off", &["--service", "sms"]);
    env.run(&["disable", &off]).code(0);
    let serve = Server::start(&env, &[]);
    let nginx = Nginx::start(env.dir.path(), &serve.addr);

    // A valid key, in either header, reaches the upstream with its id.
    let bearer = format!("Bearer {key}");
    for headers in [
        vec![("Authorization", bearer.as_str())],
        vec![("X-API-Key", key.as_str())],
    ] {
        let r = nginx.get("/orders/42?page=1", &headers);
        assert_eq!(r.status, 200, "{r:#?}\n{}", nginx.error_log());
        assert_eq!(saw(&r), Some((id.as_str(), "Data%20Sync", "sms")), "{r:#?}");
    }
    let r = nginx.get("/", &[("X-API-Key", &other)]);
    let other_id = Env::id_of(&other);
    assert_eq!(saw(&r), Some((other_id.as_str(), "Other", "sms")), "{r:#?}");
    // A client's own X-Keysmith-* headers never reach the upstream.
    let r = nginx.get(
        "/",
        &[
            ("X-API-Key", &key),
            ("X-Keysmith-Key-Id", "forged"),
            ("X-Keysmith-Key-Name", "forged"),
            ("X-Keysmith-Service", "sms"),
        ],
    );
    assert_eq!(saw(&r), Some((id.as_str(), "Data%20Sync", "sms")), "{r:#?}");

    // Missing, malformed, unknown: 401, with serve's challenge passed on.
    let unknown = keysmith::mint("ks");
    for (what, headers) in [
        ("missing", vec![]),
        (
            "missing, a forged id",
            vec![("X-Keysmith-Key-Id", id.as_str())],
        ),
        ("malformed", vec![("X-API-Key", "ks_nope")]),
        ("not bearer", vec![("Authorization", "Basic dXNlcjpwdw==")]),
        ("unknown", vec![("X-API-Key", unknown.secret.expose())]),
    ] {
        let r = nginx.get("/orders", &headers);
        assert_eq!(r.status, 401, "{what}: {r:#?}");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"keysmith\""),
            "{what}: {r:#?}"
        );
        assert!(!r.body.contains("upstream saw"), "{what}: {r:#?}");
    }

    // Another service's key: 403, whatever service the client asks for
    // (nginx sets X-Keysmith-Service for serve).
    for headers in [
        vec![("X-API-Key", mail.as_str())],
        vec![("X-API-Key", mail.as_str()), ("X-Keysmith-Service", "mail")],
    ] {
        let r = nginx.get("/orders?service=mail", &headers);
        assert_eq!(r.status, 403, "{headers:?}: {r:#?}");
        assert!(!r.body.contains("upstream saw"), "{r:#?}");
    }

    // Disabled, expired: 403.
    if let Some(left) = Duration::from_millis(2100).checked_sub(began.elapsed()) {
        std::thread::sleep(left);
    }
    for (what, k) in [("disabled", &off), ("expired", &expiring)] {
        let r = nginx.get("/orders", &[("X-API-Key", k)]);
        assert_eq!(r.status, 403, "{what}: {r:#?}");
        assert!(!r.body.contains("upstream saw"), "{what}: {r:#?}");
    }

    // Disabled by the CLI mid-test: refused by the very next request, over
    // the same keep-alive connections nginx holds to serve.
    assert_eq!(nginx.get("/", &[("X-API-Key", &key)]).status, 200);
    env.run(&["disable", &id]).code(0);
    let r = nginx.get("/", &[("X-API-Key", &key)]);
    assert_eq!(r.status, 403, "{r:#?}");
    env.run(&["enable", &id]).code(0);
    assert_eq!(nginx.get("/", &[("X-API-Key", &key)]).status, 200);

    // serve gone: nginx fails closed, with 503 (not its 500), and says why.
    let log = serve.stop();
    let r = nginx.get("/", &[("X-API-Key", &key)]);
    assert_eq!(r.status, 503, "{r:#?}");
    assert!(!r.body.contains("upstream saw"), "{r:#?}");

    let errors = nginx.error_log();
    nginx.stop();
    for secret in [&key, &other, &mail, &off, &expiring] {
        assert!(!log.contains(secret.as_str()), "{log}");
        assert!(!errors.contains(secret.as_str()), "{errors}");
    }
}

//! docs/src/serve.md `serve`, through the built binary: each endpoint's status codes,
//! headers and bodies, freshness against the CLI, uses written on SIGTERM,
//! the limits, and no full key in what serve prints. On both backends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Env, spawn};

/// A running `keysmith serve` on a port the system chose.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
    /// What it wrote on stdout, when it was asked to be kept.
    stdout: Option<(Arc<Mutex<String>>, std::thread::JoinHandle<()>)>,
}

impl Server {
    pub(crate) fn start(env: &Env, extra: &[&str]) -> Server {
        let mut cmd = env.command();
        cmd.args(["serve", "--listen", "127.0.0.1:0"]).args(extra);
        Server::run(cmd, false)
    }

    /// `cmd`, a `serve` that listens on TCP, once it says it is ready;
    /// its stdout kept when `keep_stdout`.
    fn run(mut cmd: std::process::Command, keep_stdout: bool) -> Server {
        cmd.stdin(Stdio::null())
            .stdout(if keep_stdout {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::piped());
        let mut child = spawn(&mut cmd);
        let stdout = child.stdout.take().map(|pipe| {
            let text = Arc::new(Mutex::new(String::new()));
            let kept = text.clone();
            let reader = std::thread::spawn(move || {
                let mut all = String::new();
                let _ = BufReader::new(pipe).read_to_string(&mut all);
                *kept.lock().unwrap() = all;
            });
            (text, reader)
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let log = stderr.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let addr = line
                    .strip_prefix("keysmith serve: listening on http://")
                    .or_else(|| line.strip_prefix("keysmith serve: listening on https://"));
                if let Some(addr) = addr {
                    let _ = ready_tx.send(addr.to_owned());
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = ready_rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("serve never got ready: {}", stderr.lock().unwrap())
            });
        Server {
            child,
            addr,
            stderr,
            reader: Some(reader),
            stdout,
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).expect("connect to serve");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }

    /// Sends `head` (request line and headers, without the blank line),
    /// `Connection: close` and `body`; reads the whole answer.
    fn send(&self, head: &str, body: &[u8]) -> Reply {
        let mut s = self.connect();
        let mut req = format!(
            "{head}\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        s.write_all(&req).unwrap();
        read_reply(&mut s)
    }

    fn get(&self, path: &str) -> Reply {
        self.send(&format!("GET {path} HTTP/1.1"), b"")
    }

    pub(crate) fn post(&self, path: &str, body: &str) -> Reply {
        self.send(
            &format!("POST {path} HTTP/1.1\r\nContent-Type: application/json"),
            body.as_bytes(),
        )
    }

    pub(crate) fn auth(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut head = format!("GET {path} HTTP/1.1");
        for (k, v) in headers {
            head.push_str(&format!("\r\n{k}: {v}"));
        }
        self.send(&head, b"")
    }

    pub(crate) fn verify(&self, key: &str, extra: &str) -> serde_json::Value {
        let r = self.post("/v1/verify", &format!("{{\"key\": \"{key}\"{extra}}}"));
        assert_eq!(r.status, 200, "{r:#?}");
        r.json()
    }

    /// SIGTERM, and what serve said on stderr; asserts a clean exit 0.
    pub(crate) fn stop(mut self) -> String {
        self.terminate()
    }

    /// `stop`, and what serve wrote on stdout (kept: `Server::run`).
    fn stop_with_stdout(mut self) -> (String, String) {
        let log = self.terminate();
        let (text, reader) = self.stdout.take().expect("stdout kept");
        reader.join().unwrap();
        let out = text.lock().unwrap().clone();
        (log, out)
    }

    fn terminate(&mut self) -> String {
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM");
        let status = wait(&mut self.child, Duration::from_secs(20));
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let log = self.stderr.lock().unwrap().clone();
        assert_eq!(status, Some(0), "serve did not exit 0 on SIGTERM: {log}");
        log
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn wait(child: &mut Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

/// One HTTP answer, as the tests read it.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Reply {
    /// Reads an answer from its text: status line, headers, blank line, body.
    pub(crate) fn parse(text: &str) -> Reply {
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("an incomplete answer: {text:?}"));
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .map(|l| {
                let (k, v) = l.split_once(':').unwrap();
                (k.trim().to_owned(), v.trim().to_owned())
            })
            .collect();
        Reply {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:#?}"))
    }
}

fn read_reply(s: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    Reply::parse(&String::from_utf8(raw).expect("a UTF-8 answer"))
}

fn use_count(env: &Env, id: &str) -> i64 {
    let v = env.run(&["--json", "list"]).code(0).json();
    v.as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .expect("the key is listed")["use_count"]
        .as_i64()
        .unwrap()
}

#[test]
fn healthz_paths_and_methods() {
    let env = Env::new();
    env.run(&["init"]).code(0);
    let server = Server::start(&env, &[]);
    let r = server.get("/healthz");
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"), "{r:#?}");
    let r = server.get("/nowhere");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    let r = server.get("/v1/verify");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = server.post("/healthz", "");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    let r = server.get("/metrics");
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("keysmith_verifications_total{code=\"VALID\"} 0"),
        "{r:#?}"
    );
    server.stop();
}

#[test]
fn verify_answers_every_code_with_the_key_s_fields() {
    let env = Env::new();
    let key = env.create("Data Sync", &["--service", "sms"]);
    let id = Env::id_of(&key);
    let off = env.create("Off", &[]);
    env.run(&["disable", &off]).code(0);
    let server = Server::start(&env, &[]);

    let v = server.verify(&key, ", \"service\": \"sms\"");
    assert_eq!(
        v,
        serde_json::json!({"valid": true, "code": "VALID", "id": id, "name": "Data Sync",
            "owner": null, "meta": null, "uses": null, "service": "sms", "scopes": [], "expires_at": null,
            "remaining_uses": null})
    );
    assert_eq!(
        server.verify(&key, ", \"service\": \"mail\"")["code"],
        "WRONG_SERVICE"
    );
    assert_eq!(server.verify(&off, "")["code"], "DISABLED");
    assert_eq!(server.verify("ks_nope", "")["code"], "MALFORMED");
    let v = server.verify("ks_nope", "");
    for field in [
        "id",
        "name",
        "service",
        "scopes",
        "expires_at",
        "remaining_uses",
    ] {
        assert!(v[field].is_null(), "{field}: {v}");
    }
    // Keys hold no scopes yet: any scope required is missing.
    let v = server.verify(&key, ", \"scopes\": [\"sms:send\"]");
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (false.into(), "INSUFFICIENT_SCOPE".into())
    );
    assert_eq!(server.verify(&key, ", \"scopes\": []")["code"], "VALID");
    // Precedence: a disabled key is DISABLED whatever scope is asked.
    assert_eq!(
        server.verify(&off, ", \"scopes\": [\"a\"]")["code"],
        "DISABLED"
    );
    server.stop();
}

#[test]
fn a_root_key_is_answered_as_a_key_that_does_not_exist() {
    let env = Env::new();
    let root = env.create("admin", &["--scope", "keysmith:*"]);
    let stranger = keysmith::mint("ks");
    let stranger = stranger.secret.expose();
    let server = Server::start(&env, &[]);
    assert_eq!(server.verify(&root, ""), server.verify(stranger, ""));
    assert_eq!(server.verify(&root, "")["code"], "NOT_FOUND");
    let body = |key: &str| format!("{{\"keys\": [\"{key}\"]}}");
    let batch = server.post("/v1/verify/batch", &body(&root));
    assert_eq!(
        batch.json(),
        server.post("/v1/verify/batch", &body(stranger)).json()
    );
    let auth = server.auth("/v1/auth", &[("X-API-Key", &root)]);
    let unknown = server.auth("/v1/auth", &[("X-API-Key", stranger)]);
    assert_eq!(auth.status, 401, "{auth:#?}");
    assert_eq!((auth.status, &auth.body), (unknown.status, &unknown.body));
    server.stop();
    assert_eq!(use_count(&env, &Env::id_of(&root)), 0);
}

#[test]
fn bad_requests_are_refused_with_400_413() {
    let env = Env::new();
    let key = env.create("Data Sync", &[]);
    let server = Server::start(&env, &[]);
    for body in [
        "not json".to_owned(),
        "{}".to_owned(),
        format!("{{\"key\": \"{key}\", \"extra\": 1}}"),
        "{\"key\": 5}".to_owned(),
        format!("{{\"key\": \"{key}\", \"service\": \"Not A Service\"}}"),
        format!("{{\"key\": \"{key}\", \"scopes\": \"{key}\"}}"),
        // A struct's fields as an array: serde takes it, docs/src/serve.md does not
        // (found by fuzz/fuzz_targets/serve_body.rs).
        format!("[\"{key}\"]"),
    ] {
        let r = server.post("/v1/verify", &body);
        assert_eq!(r.status, 400, "{body}: {r:#?}");
        assert!(r.json()["error"].is_string());
        assert!(!r.body.contains(&key), "the key is quoted back: {r:#?}");
    }
    // Invalid UTF-8 inside the JSON string.
    let mut body = b"{\"key\": \"ks_".to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(b"\"}");
    let r = server.send("POST /v1/verify HTTP/1.1", &body);
    assert_eq!(r.status, 400, "{r:#?}");
    // Over 64 KiB, declared or not.
    let big = format!("{{\"key\": \"{}\"}}", "a".repeat(70 * 1024));
    assert_eq!(server.post("/v1/verify", &big).status, 413);
    let mut s = server.connect();
    write!(
        s,
        "POST /v1/verify HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    )
    .unwrap();
    assert_eq!(read_reply(&mut s).status, 413);
    // A request head of 1 MB is refused (431), not buffered.
    let mut s = server.connect();
    let huge = format!(
        "GET /v1/auth HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let _ = s.write_all(huge.as_bytes());
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let head = String::from_utf8_lossy(&raw);
    assert!(
        head.is_empty() || head.starts_with("HTTP/1.1 431"),
        "{head}"
    );
    // Still serving.
    assert_eq!(server.verify(&key, "")["code"], "VALID");
    let log = server.stop();
    assert!(!log.contains(&key), "{log}");
}

#[test]
fn batch_answers_in_order() {
    let env = Env::new();
    let a = env.create("A", &["--service", "sms"]);
    let b = env.create("B", &[]);
    let server = Server::start(&env, &[]);
    let body = format!("{{\"keys\": [\"{a}\", \"junk\", \"{b}\", \"{a}\"], \"service\": \"sms\"}}");
    let r = server.post("/v1/verify/batch", &body);
    assert_eq!(r.status, 200, "{r:#?}");
    let codes: Vec<_> = r.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["VALID", "MALFORMED", "WRONG_SERVICE", "VALID"]);
    let r = server.post("/v1/verify/batch", "{\"keys\": []}");
    assert_eq!(r.json()["results"], serde_json::json!([]));
    let many = vec!["\"x\""; 10_001].join(",");
    let r = server.post("/v1/verify/batch", &format!("{{\"keys\": [{many}]}}"));
    assert_eq!(r.status, 400, "{r:#?}");
    server.stop();
    // Both VALID answers counted.
    assert_eq!(use_count(&env, &Env::id_of(&a)), 2);
}

#[test]
fn auth_follows_the_gateway_contract() {
    let env = Env::new();
    let key = env.create("Data Sync é", &["--service", "sms"]);
    let id = Env::id_of(&key);
    let off = env.create("Off", &[]);
    env.run(&["disable", &off]).code(0);
    let server = Server::start(&env, &[]);
    let bearer = format!("Bearer {key}");

    for (path, headers) in [
        ("/v1/auth", vec![("Authorization", bearer.as_str())]),
        ("/v1/auth/any/path?x=1", vec![("X-API-Key", key.as_str())]),
        ("/v1/auth?service=sms", vec![("X-API-Key", key.as_str())]),
        (
            "/v1/auth",
            vec![
                ("Authorization", bearer.as_str()),
                ("X-Keysmith-Service", "sms"),
            ],
        ),
    ] {
        let r = server.auth(path, &headers);
        assert_eq!(r.status, 200, "{path} {headers:?}: {r:#?}");
        assert_eq!(r.header("x-keysmith-code"), Some("VALID"));
        assert_eq!(r.header("x-keysmith-key-id"), Some(id.as_str()));
        assert_eq!(
            r.header("x-keysmith-key-name"),
            Some("Data%20Sync%20%C3%A9")
        );
        assert_eq!(r.header("x-keysmith-service"), Some("sms"));
    }
    // Any method.
    let r = server.send(
        &format!("DELETE /v1/auth/x HTTP/1.1\r\nAuthorization: {bearer}"),
        b"",
    );
    assert_eq!(r.status, 200);

    let missing = server.auth("/v1/auth", &[]);
    let malformed = server.auth("/v1/auth", &[("X-API-Key", "ks_short")]);
    let basic = server.auth("/v1/auth", &[("Authorization", "Basic dXNlcjpwYXNz")]);
    let unknown = keysmith::mint("ks");
    let not_found = server.auth("/v1/auth", &[("X-API-Key", unknown.secret.expose())]);
    for (r, code) in [
        (&missing, "MALFORMED"),
        (&malformed, "MALFORMED"),
        (&basic, "MALFORMED"),
        (&not_found, "NOT_FOUND"),
    ] {
        assert_eq!(r.status, 401, "{r:#?}");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"keysmith\"")
        );
        assert_eq!(r.header("x-keysmith-code"), Some(code));
        assert_eq!(r.json(), serde_json::json!({"valid": false, "code": code}));
    }
    let disabled = server.auth("/v1/auth", &[("X-API-Key", off.as_str())]);
    let wrong = server.auth("/v1/auth?service=mail", &[("X-API-Key", key.as_str())]);
    let scoped = server.auth(
        "/v1/auth",
        &[
            ("X-API-Key", key.as_str()),
            ("X-Keysmith-Scopes", "sms:send"),
        ],
    );
    for (r, code) in [
        (&disabled, "DISABLED"),
        (&wrong, "WRONG_SERVICE"),
        (&scoped, "INSUFFICIENT_SCOPE"),
    ] {
        assert_eq!(r.status, 403, "{r:#?}");
        assert_eq!(r.header("www-authenticate"), None);
        assert_eq!(r.header("x-keysmith-code"), Some(code));
        assert_eq!(r.json(), serde_json::json!({"valid": false, "code": code}));
    }
    let log = server.stop();
    assert!(!log.contains(&key), "{log}");
}

#[test]
fn key_header_names_the_headers_read() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let server = Server::start(&env, &["--key-header", "X-Token"]);
    assert_eq!(server.auth("/v1/auth", &[("X-Token", &key)]).status, 200);
    assert_eq!(server.auth("/v1/auth", &[("X-API-Key", &key)]).status, 401);
    server.stop();
}

#[test]
fn a_change_by_the_cli_is_honoured_by_the_very_next_request() {
    let env = Env::new();
    let key = env.create("Data Sync", &["--service", "sms"]);
    let server = Server::start(&env, &["--flush-interval", "50ms"]);
    let header = [("X-API-Key", key.as_str())];
    for _ in 0..3 {
        assert_eq!(server.auth("/v1/auth", &header).status, 200);
        assert_eq!(server.verify(&key, "")["code"], "VALID");
    }
    env.run(&["disable", &key]).code(0);
    assert_eq!(server.auth("/v1/auth", &header).status, 403);
    assert_eq!(server.verify(&key, "")["code"], "DISABLED");
    env.run(&["enable", &key]).code(0);
    assert_eq!(server.auth("/v1/auth", &header).status, 200);
    env.run(&["edit", &key, "--service", "mail"]).code(0);
    assert_eq!(server.auth("/v1/auth?service=sms", &header).status, 403);
    // Uses written in between (serve's own writes) change nothing.
    std::thread::sleep(Duration::from_millis(200));
    env.run(&["delete", &key, "--yes"]).code(0);
    assert_eq!(server.auth("/v1/auth", &header).status, 401);
    // A key made after serve started is found at once.
    let new = env.create("New", &[]);
    assert_eq!(server.auth("/v1/auth", &[("X-API-Key", &new)]).status, 200);
    server.stop();
}

#[test]
fn uses_are_written_on_sigterm_and_every_interval() {
    let env = Env::new();
    let key = env.create("Data Sync", &[]);
    let id = Env::id_of(&key);
    let server = Server::start(&env, &["--flush-interval", "1h"]);
    for _ in 0..5 {
        assert_eq!(server.auth("/v1/auth", &[("X-API-Key", &key)]).status, 200);
    }
    assert_eq!(server.verify(&key, "")["code"], "VALID");
    // Not yet written: the interval is an hour.
    assert_eq!(use_count(&env, &id), 0);
    let log = server.stop();
    assert!(log.contains("6 pending uses written"), "{log}");
    assert_eq!(use_count(&env, &id), 6);

    let server = Server::start(&env, &["--flush-interval", "100ms"]);
    assert_eq!(server.verify(&key, "")["code"], "VALID");
    let deadline = Instant::now() + Duration::from_secs(10);
    while use_count(&env, &id) != 7 {
        assert!(Instant::now() < deadline, "the use was never written");
        std::thread::sleep(Duration::from_millis(50));
    }
    server.stop();
}

#[test]
fn a_slow_client_is_cut_off_while_others_are_served() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let server = Server::start(&env, &["--header-timeout", "1s"]);
    let mut slow = server.connect();
    let started = Instant::now();
    let head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaa\r\n";
    let mut cut = false;
    for byte in head {
        if slow.write_all(&[*byte]).is_err() {
            cut = true;
            break;
        }
        // Others are served meanwhile.
        assert_eq!(server.auth("/v1/auth", &[("X-API-Key", &key)]).status, 200);
        std::thread::sleep(Duration::from_millis(150));
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    // The server closed it (a 408 or nothing, then EOF).
    let mut rest = Vec::new();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let closed = cut
        || match slow.read_to_end(&mut rest) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        };
    assert!(closed, "the slow connection stayed open");
    assert!(started.elapsed() < Duration::from_secs(5));
    // A client that sends nothing is cut off too.
    let mut idle = server.connect();
    let started = Instant::now();
    let _ = idle.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the idle connection stayed open"
    );
    // So is a keep-alive connection idle after its request.
    let mut kept = server.connect();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 15];
    kept.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200 OK");
    let started = Instant::now();
    let _ = kept.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the kept-alive connection stayed open"
    );
    server.stop();
}

#[test]
fn connections_past_the_limit_are_closed_and_others_served_after() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let server = Server::start(&env, &["--max-connections", "2", "--header-timeout", "1s"]);
    let a = server.connect();
    let b = server.connect();
    std::thread::sleep(Duration::from_millis(100));
    let mut c = server.connect();
    let mut buf = Vec::new();
    let started = Instant::now();
    let _ = c.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "over the limit, closed at once"
    );
    drop((a, b));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.auth("/v1/auth", &[("X-API-Key", &key)]).status, 200);
    server.stop();
}

#[test]
fn requests_in_flight_finish_on_sigterm() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let id = Env::id_of(&key);
    let server = Server::start(&env, &[]);
    // Headers sent, body on its way when SIGTERM comes.
    let mut s = server.connect();
    let body = format!("{{\"key\": \"{key}\"}}");
    write!(
        s,
        "POST /v1/verify HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body.as_bytes()[..5]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let pid = server.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    s.write_all(&body.as_bytes()[5..]).unwrap();
    let r = read_reply(&mut s);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.json()["code"], "VALID");
    let mut server = server;
    assert_eq!(wait(&mut server.child, Duration::from_secs(20)), Some(0));
    assert_eq!(use_count(&env, &id), 1);
}

#[test]
fn listens_on_a_unix_socket_and_refuses_a_bad_address() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let sock = env.dir.path().join("serve.sock");
    let server = Server::start(&env, &["--listen", &format!("unix:{}", sock.display())]);
    let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    write!(
        s,
        "GET /v1/auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-API-Key: {key}\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200 "), "{raw}");
    let log = server.stop();
    assert!(
        log.contains(&format!("listening on unix:{}", sock.display())),
        "{log}"
    );
    assert!(!sock.exists(), "the socket file is removed on exit");

    env.run(&["serve", "--listen", "nowhere"])
        .error(2, "--listen");
}

#[test]
fn a_key_with_a_trailing_newline_is_taken_as_verify_takes_it() {
    let env = Env::new();
    let key = env.create("K", &["--service", "sms"]);
    // `verify` takes it so (a key read from a file with its newline).
    env.run_stdin(&["verify"], &format!("{key}\n")).code(0);
    let server = Server::start(&env, &[]);
    for presented in [
        format!("{key}\\n"),
        format!("{key}\\r\\n"),
        format!(" \\t{key} "),
    ] {
        let v = server.verify(&presented, "");
        assert_eq!(v["code"], "VALID", "{presented:?}: {v}");
        let body = format!("{{\"keys\": [\"{presented}\", \"{key}\"]}}");
        let r = server.post("/v1/verify/batch", &body);
        let codes: Vec<_> = r.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["code"].clone())
            .collect();
        assert_eq!(codes, ["VALID", "VALID"], "{presented:?}: {r:#?}");
    }
    // Inside a key, whitespace is still wrong.
    let (head, tail) = key.split_at(20);
    assert_eq!(
        server.verify(&format!("{head} {tail}"), "")["code"],
        "MALFORMED"
    );
    server.stop();
}

#[test]
fn an_empty_service_header_leaves_the_query_s_service_in_force() {
    let env = Env::new();
    let key = env.create("K", &["--service", "sms"]);
    let server = Server::start(&env, &[]);
    let empty = [("X-API-Key", key.as_str()), ("X-Keysmith-Service", "")];
    let r = server.auth("/v1/auth?service=mail", &empty);
    assert_eq!(r.status, 403, "{r:#?}");
    assert_eq!(r.header("x-keysmith-code"), Some("WRONG_SERVICE"));
    assert_eq!(server.auth("/v1/auth?service=sms", &empty).status, 200);
    assert_eq!(server.auth("/v1/auth", &empty).status, 200);
    // A header with a service still comes before the query.
    let sms = [("X-API-Key", key.as_str()), ("X-Keysmith-Service", "sms")];
    assert_eq!(server.auth("/v1/auth?service=mail", &sms).status, 200);
    let mail = [("X-API-Key", key.as_str()), ("X-Keysmith-Service", "mail")];
    assert_eq!(server.auth("/v1/auth?service=sms", &mail).status, 403);
    server.stop();
}

#[test]
fn a_unix_socket_has_socket_mode_whatever_the_umask() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let sock = env.dir.path().join("serve.sock");
    let listen = format!("unix:{}", sock.display());
    for (extra, mode) in [
        (vec![], 0o660),
        (vec!["--socket-mode", "0600"], 0o600),
        (vec!["--socket-mode", "640"], 0o640),
    ] {
        // Under umask 000, which would leave it 0777.
        let mut cmd = env.shell(r#"umask 000 && exec "$0" "$@""#);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--listen", &listen])
            .args(&extra);
        let server = Server::run(cmd, false);
        assert_eq!(crate::common::mode(&sock), mode, "{extra:?}");
        let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
        write!(
            s,
            "GET /v1/auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-API-Key: {key}\r\n\r\n"
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        assert!(raw.starts_with("HTTP/1.1 200 "), "{raw}");
        let log = server.stop();
        assert!(!log.contains("warning"), "{log}");
    }
    // Open to every user: said.
    let mut cmd = env.command();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--listen", &listen])
        .args(["--socket-mode", "0666"]);
    let server = Server::run(cmd, false);
    assert_eq!(crate::common::mode(&sock), 0o666);
    let log = server.stop();
    assert!(
        log.contains(&format!(
            "warning: {listen} accepts connections from every user of this machine (--socket-mode 0666)"
        )),
        "{log}"
    );
    // Not a mode, or no socket for it: usage errors.
    for bad in ["999", "0o1777", "rw-rw----", "", "77777"] {
        let run = env.run(&["serve", "--listen", &listen, "--socket-mode", bad]);
        assert_eq!(run.code, 2, "{bad}: {run:#?}");
        assert!(run.stderr.contains("--socket-mode"), "{run:#?}");
    }
    let run = env.run(&["serve", "--listen", "127.0.0.1:0", "--socket-mode", "600"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("--socket-mode is for unix sockets"),
        "{run:#?}"
    );
}

mod access_log;
mod faults;
mod fleet;
mod head;
mod key_limits;
mod limits;
mod owners;
mod postgres;
mod tls;

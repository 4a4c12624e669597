//! SPEC §7 faults on a SQLite store: locked by another process, damaged or
//! replaced. A request waits for another process's lock at most serve's
//! busy timeout (a second, not the CLI's 30 s) and a flush waiting for the
//! store never holds requests up; a request that cannot get the store is
//! answered 503, healthz is 503 meanwhile, and serve recovers by itself,
//! without a restart. SQLite only (`postgres::SQLITE_ONLY`): these hold or
//! damage the store file.

use std::time::{Duration, Instant};

use super::{Server, use_count};
use crate::common::Env;

/// Well under the CLI's 30 s busy timeout; over serve's 1 s with room for
/// two shared cores.
const PROMPT: Duration = Duration::from_secs(5);

/// `f`, and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}

fn verify_status(server: &Server, key: &str) -> (u16, serde_json::Value) {
    let r = server.post("/v1/verify", &format!("{{\"key\": \"{key}\"}}"));
    let body = serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null);
    (r.status, body)
}

#[test]
fn sqlite_a_store_locked_for_writing_still_verifies_and_its_uses_wait() {
    // In WAL mode a writer's lock (`BEGIN EXCLUSIVE`) leaves reads free:
    // verifications go on at full speed while the flusher, which cannot
    // write, keeps the uses pending without holding up any request.
    let env = Env::new();
    let key = env.create("K", &[]);
    let id = Env::id_of(&key);
    let server = Server::start(&env, &["--flush-interval", "50ms"]);
    let conn = env.conn();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    for _ in 0..10 {
        let ((status, body), took) = timed(|| verify_status(&server, &key));
        assert_eq!((status, &body["code"]), (200, &"VALID".into()), "{body}");
        assert!(
            took < Duration::from_millis(900),
            "a request waited {took:?}"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
    assert_eq!(server.get("/healthz").status, 200);
    assert_eq!(use_count(&env, &id), 0, "written through another's lock?");
    conn.execute_batch("ROLLBACK").unwrap();
    let deadline = Instant::now() + PROMPT;
    while use_count(&env, &id) != 10 {
        assert!(
            Instant::now() < deadline,
            "the pending uses were never written"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server.stop();
}

//! docs/src/serve.md faults on a SQLite store: locked by another process, damaged or
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

/// Puts `bytes` at the store's path the way a restore does: written beside
/// it, mode 0600, the old `-wal` and `-shm` removed, renamed into place.
fn replace_store(env: &Env, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = env.db.with_extension("replacing");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).unwrap();
    for suffix in ["-wal", "-shm"] {
        let mut side = env.db.clone().into_os_string();
        side.push(suffix);
        let _ = std::fs::remove_file(side);
    }
    std::fs::rename(&tmp, &env.db).unwrap();
}

#[test]
fn sqlite_a_damaged_or_missing_store_is_503_and_a_restored_one_is_served_without_restart() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let other = env.create("Other", &[]);
    let id = Env::id_of(&key);
    let backup = env.db.with_extension("backup");
    env.run(&["backup", backup.to_str().unwrap()]).code(0);
    let good = std::fs::read(&backup).unwrap();
    // Every page but the first (the header and schema) overwritten.
    let page = 4096;
    let mut damaged = good.clone();
    for (i, b) in damaged[page..].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31) ^ 0x5a;
    }
    env.run(&["disable", &other]).code(0);

    let server = Server::start(&env, &["--flush-interval", "50ms"]);
    assert_eq!(verify_status(&server, &key).1["code"], "VALID");
    assert_eq!(verify_status(&server, &other).1["code"], "DISABLED");
    // That use is written to the store before it is damaged.
    std::thread::sleep(Duration::from_millis(400));

    replace_store(&env, &damaged);
    for k in [&key, &other] {
        let ((status, body), took) = timed(|| verify_status(&server, k));
        assert_eq!(status, 503, "a damaged store answered: {body}");
        assert!(body["error"].is_string(), "{body}");
        assert!(took < PROMPT, "a 503 took {took:?}");
    }
    assert_eq!(server.get("/healthz").status, 503);

    std::fs::remove_file(&env.db).unwrap();
    assert_eq!(verify_status(&server, &key).0, 503);
    assert_eq!(server.get("/healthz").status, 503);

    // The backup, restored: its state is served (Other was enabled then),
    // and a change made to the restored file is honoured at once.
    replace_store(&env, &good);
    assert_eq!(server.get("/healthz").status, 200);
    assert_eq!(verify_status(&server, &key).1["code"], "VALID");
    assert_eq!(verify_status(&server, &other).1["code"], "VALID");
    env.run(&["disable", &key]).code(0);
    assert_eq!(verify_status(&server, &key).1["code"], "DISABLED");
    let log = server.stop();
    assert!(log.contains("damaged"), "{log}");
    // The use after the restore, written to the restored file.
    assert_eq!(use_count(&env, &id), 1, "{log}");
    assert!(!log.contains(&key), "{log}");
}

#[test]
fn sqlite_a_client_gone_before_its_answer_is_counted_as_the_use_it_spent() {
    // The spend waits for another process's write lock; the client hangs
    // up meanwhile. Its use is still spent when the lock is let go, and the
    // metrics count the VALID verdict, so that they always match what the
    // store lost (bench/owners.py checks this under load).
    use std::io::Write;
    let env = Env::new();
    let key = env.create("K", &["--uses", "5"]);
    let server = Server::start(&env, &[]);
    let conn = env.conn();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let mut client = server.connect();
    write!(
        client,
        "GET /v1/auth HTTP/1.1\r\nHost: t\r\nX-API-Key: {key}\r\n\r\n"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(client);
    std::thread::sleep(Duration::from_millis(300));
    conn.execute_batch("ROLLBACK").unwrap();
    let remaining = || {
        env.run(&["--json", "show", &Env::id_of(&key)])
            .code(0)
            .json()["remaining_uses"]
            .clone()
    };
    let deadline = Instant::now() + PROMPT;
    while remaining() != 4 {
        assert!(Instant::now() < deadline, "the use was never spent");
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains("keysmith_verifications_total{code=\"VALID\"} 1"),
        "{metrics}"
    );
    server.stop();
}

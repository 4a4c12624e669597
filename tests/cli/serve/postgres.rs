//! `serve` on PostgreSQL, each test with a throwaway server of its own
//! (`.ci/postgres.sh start`), which it stops and starts: the store down
//! mid-load and back, and two `serve` processes sharing one store.
//! (Named `postgres::`, so the PostgreSQL leg does not run them again.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::{Duration, Instant};

use super::{Server, use_count};
use crate::common::Env;

/// Well under anything that looks hung; over a reconnect on two shared cores.
const PROMPT: Duration = Duration::from_secs(5);

/// A PostgreSQL server of the test's own, removed when dropped.
struct PgServer {
    dir: PathBuf,
    url: String,
}

impl PgServer {
    fn start() -> PgServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/postgres.sh");
        let out = Command::new(&script).arg("start").output().unwrap();
        assert!(
            out.status.success(),
            "postgres.sh start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let export = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .unwrap_or_else(|| panic!("{name} not exported: {text}"))
                .trim_matches('\'')
                .to_owned()
        };
        PgServer {
            dir: PathBuf::from(export("KEYSMITH_TEST_POSTGRES_DIR")),
            url: export("KEYSMITH_TEST_POSTGRES"),
        }
    }

    /// `pg_ctl -D DIR/data ARGS`, as the `postgres` user when root.
    fn pg_ctl(&self, args: &[&str]) {
        let bindir = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|dirs| {
                let mut found: Vec<PathBuf> =
                    dirs.flatten().map(|d| d.path().join("bin")).collect();
                found.sort();
                found.pop()
            })
            .unwrap_or_default();
        let pg_ctl = bindir.join("pg_ctl");
        let data = self.dir.join("data");
        let log = self.dir.join("server.log");
        let mut cmd = if crate::common::running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            c
        } else {
            Command::new(&pg_ctl)
        };
        cmd.arg("-D").arg(&data).arg("-l").arg(&log).args(args);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn stop(&self) {
        self.pg_ctl(&["-w", "-m", "fast", "stop"]);
    }

    fn start_again(&self) {
        self.pg_ctl(&["-w", "-t", "30", "start"]);
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/postgres.sh");
        let _ = Command::new(script).arg("stop").arg(&self.dir).output();
    }
}

fn verify(server: &Server, key: &str) -> (u16, serde_json::Value) {
    let r = server.post("/v1/verify", &format!("{{\"key\": \"{key}\"}}"));
    let body = serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null);
    (r.status, body)
}

pg_test! {
    fn a_postgresql_restart_is_503_then_served_again() {
        let pg = PgServer::start();
        let env = Env::postgres_at(&pg.url);
        let key = env.create("K", &[]);
        let id = Env::id_of(&key);
        let server = Server::start(&env, &["--flush-interval", "50ms"]);
        assert_eq!(verify(&server, &key).1["code"], "VALID");

        // Load all along: each answer 200 VALID or 503, and none slow.
        let stop = AtomicBool::new(false);
        let (valid, during) = std::thread::scope(|s| {
            let load = s.spawn(|| {
                let (mut valid, mut slowest, mut others) = (0u64, Duration::ZERO, Vec::new());
                while !stop.load(SeqCst) {
                    let started = Instant::now();
                    let (status, body) = verify(&server, &key);
                    slowest = slowest.max(started.elapsed());
                    match status {
                        200 if body["code"] == "VALID" => valid += 1,
                        503 => {}
                        _ => others.push((status, body)),
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                (valid, slowest, others)
            });
            std::thread::sleep(Duration::from_millis(300));
            pg.stop();
            let mut during = Vec::new();
            for _ in 0..5 {
                let started = Instant::now();
                let (status, body) = verify(&server, &key);
                let health = server.get("/healthz").status;
                during.push((status, body, health, started.elapsed()));
                std::thread::sleep(Duration::from_millis(100));
            }
            pg.start_again();
            let deadline = Instant::now() + Duration::from_secs(20);
            while verify(&server, &key).0 != 200 {
                assert!(Instant::now() < deadline, "serve never recovered");
                std::thread::sleep(Duration::from_millis(50));
            }
            std::thread::sleep(Duration::from_millis(300));
            stop.store(true, SeqCst);
            let (valid, slowest, others) = load.join().unwrap();
            assert!(others.is_empty(), "{others:?}");
            assert!(slowest < PROMPT, "a request under load took {slowest:?}");
            (valid, during)
        });
        for (status, body, health, took) in &during {
            assert_eq!(*status, 503, "with the server down: {body}");
            assert!(body["error"].is_string(), "{body}");
            assert_eq!(*health, 503);
            assert!(*took < PROMPT, "a 503 took {took:?}");
        }
        // Every store thread's connection died with the server: once one
        // request is served again, every health probe is answered 200, none
        // by a connection from before the restart.
        for _ in 0..16 {
            assert_eq!(server.get("/healthz").status, 200);
        }
        // The first VALID, the load's, and the one that saw the recovery.
        let answered = 1 + valid + 1;
        env.run(&["disable", &key]).code(0);
        assert_eq!(verify(&server, &key).1["code"], "DISABLED");
        let log = server.stop();
        assert!(!log.contains(&key), "{log}");
        assert!(!log.contains(&pg.url), "the password was logged: {log}");
        // No use lost over the outage: those pending were written after it.
        assert_eq!(use_count(&env, &id), answered as i64, "{log}");
    }
}

pg_test! {
    fn two_serve_processes_share_one_store_fresh_and_counted_exactly() {
        let pg = PgServer::start();
        let env = Env::postgres_at(&pg.url);
        let key = env.create("K", &[]);
        let id = Env::id_of(&key);
        let a = Server::start(&env, &["--flush-interval", "1h"]);
        let b = Server::start(&env, &["--flush-interval", "1h"]);
        let header = [("X-API-Key", key.as_str())];
        for _ in 0..5 {
            assert_eq!(a.auth("/v1/auth", &header).status, 200);
        }
        for _ in 0..7 {
            assert_eq!(verify(&b, &key).1["code"], "VALID");
        }
        env.run(&["disable", &key]).code(0);
        assert_eq!(a.auth("/v1/auth", &header).status, 403);
        assert_eq!(verify(&b, &key).1["code"], "DISABLED");
        env.run(&["enable", &key]).code(0);
        assert_eq!(verify(&b, &key).1["code"], "VALID");
        assert_eq!(a.auth("/v1/auth", &header).status, 200);
        env.run(&["delete", &key, "--yes"]).code(0);
        assert_eq!(a.auth("/v1/auth", &header).status, 401);
        assert_eq!(verify(&b, &key).1["code"], "NOT_FOUND");

        // Uses of a key that is there: counted exactly, across both.
        let kept = env.create("Kept", &[]);
        let kept_id = Env::id_of(&kept);
        for i in 0..20 {
            let server = if i % 2 == 0 { &a } else { &b };
            assert_eq!(verify(server, &kept).1["code"], "VALID");
        }
        assert_eq!(use_count(&env, &kept_id), 0, "the interval is an hour");
        let (log_a, log_b) = (a.stop(), b.stop());
        // Each wrote what it had pending: the deleted key's too (6 and 8),
        // which the store credits to no key.
        assert!(log_a.contains("16 pending uses written"), "{log_a}");
        assert!(log_b.contains("18 pending uses written"), "{log_b}");
        assert_eq!(use_count(&env, &kept_id), 20);
        // The deleted key's uses were credited to no one.
        assert!(env.run(&["show", &id]).code != 0);
    }
}

pg_test! {
    /// Issue 24: sessions the server ends while `serve` stays up
    /// (`pg_terminate_backend`, a pooler restart, `idle_session_timeout`) are
    /// let go and the question asked again on a new one: no 503, for a key
    /// answered through the cache, a key with uses read through each time,
    /// and /healthz; on the freshness check's connection and every store
    /// thread's.
    fn sessions_the_server_ended_are_replaced_without_a_503() {
        let env = Env::postgres();
        let plain = env.create("plain", &[]);
        let counted = env.create("counted", &["--uses", "1000"]);
        let server = Server::start(&env, &["--flush-interval", "50ms"]);
        let ask_all = |round: &str| {
            for _ in 0..4 {
                for key in [&plain, &counted] {
                    let (status, body) = verify(&server, key);
                    assert_eq!(status, 200, "{round}: {body}");
                    assert_eq!(body["code"], "VALID", "{round}: {body}");
                }
                assert_eq!(server.get("/healthz").status, 200, "{round}");
            }
        };
        ask_all("before");
        for round in ["after the first termination", "after the second"] {
            env.exec_batch_pg(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            );
            // The sessions end as their backends get the signal.
            std::thread::sleep(Duration::from_millis(300));
            ask_all(round);
        }
        // Every use counted once: no spend was asked twice.
        let shown = env
            .run(&["--json", "show", &Env::id_of(&counted)])
            .code(0)
            .json();
        assert_eq!(shown["remaining_uses"], 1000 - 12, "{shown}");
        server.stop();
    }
}

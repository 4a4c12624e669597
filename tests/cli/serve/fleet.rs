//! docs/src/fleet-limits.md: one budget for every process sharing a store.
//! `keysmith verify` counts against a key's rate limit as `serve` does, and
//! what a stopped `serve` did not use is the rest of the fleet's at once.
//! On both backends.

use super::Server;
use crate::common::Env;

fn verify_code(env: &Env, key: &str) -> (i32, serde_json::Value) {
    let run = env.run_stdin(&["--json", "verify"], key);
    let code = run.code;
    (code, run.json())
}

#[test]
fn the_cli_counts_against_a_key_s_rate_limit() {
    let env = Env::new();
    let key = env.create("limited", &["--rate", "3/1m"]);
    for _ in 0..3 {
        let (code, v) = verify_code(&env, &key);
        assert_eq!((code, v["code"].as_str()), (0, Some("VALID")), "{v}");
    }
    let (code, v) = verify_code(&env, &key);
    assert_eq!((code, v["code"].as_str()), (1, Some("RATE_LIMITED")), "{v}");
    // A RATE_LIMITED answer is not a use.
    let shown = env
        .run(&["--json", "show", &Env::id_of(&key)])
        .code(0)
        .json();
    assert_eq!(shown["use_count"], 3, "{shown}");
    // Another key has a budget of its own.
    let other = env.create("other", &["--rate", "1/1m"]);
    assert_eq!(verify_code(&env, &other).0, 0);
}

#[test]
fn serve_and_the_cli_share_one_budget() {
    let env = Env::new();
    let key = env.create("shared", &["--rate", "4/1m"]);
    let auth = |server: &Server| {
        server
            .auth("/v1/auth", &[("X-API-Key", key.as_str())])
            .status
    };
    let server = Server::start(&env, &[]);
    assert_eq!((auth(&server), auth(&server)), (200, 200));
    // Stopped, serve gives back what it leased and did not use.
    server.stop();
    assert_eq!(verify_code(&env, &key).0, 0);
    assert_eq!(verify_code(&env, &key).0, 0);
    let (code, v) = verify_code(&env, &key);
    assert_eq!((code, v["code"].as_str()), (1, Some("RATE_LIMITED")), "{v}");
    let server = Server::start(&env, &[]);
    let r = server.auth("/v1/auth", &[("X-API-Key", key.as_str())]);
    assert_eq!(r.status, 429, "{r:#?}");
    assert_eq!(r.header("x-keysmith-code"), Some("RATE_LIMITED"));
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    server.stop();
}

#[test]
fn a_key_s_first_request_waits_for_a_lease_and_the_next_ones_do_not() {
    let env = Env::new();
    let key = env.create("busy", &["--rate", "1000/1m"]);
    let server = Server::start(&env, &[]);
    let counter = |name: &str| -> u64 {
        let metrics = server.get("/metrics").body;
        let line = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")).map(str::to_owned));
        line.unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
            .parse()
            .unwrap()
    };
    assert_eq!(counter("keysmith_rate_lease_waits_total"), 0);
    for _ in 0..20 {
        let r = server.auth("/v1/auth", &[("X-API-Key", key.as_str())]);
        assert_eq!(r.status, 200, "{r:#?}");
    }
    // The first lease is a sixteenth of the limit (62), renewed ahead.
    assert_eq!(counter("keysmith_rate_lease_waits_total"), 1);
    assert!(counter("keysmith_rate_lease_calls_total") >= 1);
    server.stop();
}

/// One answer as the test's own client saw it: when it was sent and
/// received, and whether it was VALID.
type Answer = (std::time::Instant, std::time::Instant, bool);

/// `servers` (two clients each) and `cli_loops` loops of `keysmith
/// verify`, for `seconds`, on the `keys` in turn; every answer.
fn hammer(
    env: &Env,
    keys: &[String],
    seconds: u64,
    servers: Vec<Server>,
    cli_loops: usize,
) -> Vec<Answer> {
    use std::time::{Duration, Instant};
    let until = Instant::now() + Duration::from_secs(seconds);
    let answers = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for (n, server) in servers.iter().enumerate() {
            for c in 0..2 {
                let answers = &answers;
                s.spawn(move || {
                    let mut mine = Vec::new();
                    let mut i = n + c;
                    while Instant::now() < until {
                        let key = &keys[i % keys.len()];
                        i += 1;
                        let sent = Instant::now();
                        let status = server.auth("/v1/auth", &[("X-API-Key", key)]).status;
                        assert!(status == 200 || status == 429, "status {status}");
                        mine.push((sent, Instant::now(), status == 200));
                    }
                    answers.lock().unwrap().extend(mine);
                });
            }
        }
        for c in 0..cli_loops {
            let answers = &answers;
            s.spawn(move || {
                let mut mine = Vec::new();
                let mut i = c;
                while Instant::now() < until {
                    let key = &keys[i % keys.len()];
                    i += 1;
                    let sent = Instant::now();
                    let run = env.run_stdin(&["verify"], key);
                    assert!(run.code == 0 || run.code == 1, "{run:#?}");
                    mine.push((sent, Instant::now(), run.code == 0));
                }
                answers.lock().unwrap().extend(mine);
            });
        }
    });
    for server in servers {
        server.stop();
    }
    answers.into_inner().unwrap()
}

/// The rule of docs/src/fleet-limits.md as a client can check it: for
/// every window [t, t + window), the VALID answers sent at or after t and
/// received before its end are at most `limit`. Returns the most found.
fn most_in_a_window(answers: &[Answer], window: std::time::Duration, limit: usize) -> usize {
    let mut valid: Vec<&Answer> = answers.iter().filter(|a| a.2).collect();
    valid.sort_by_key(|a| a.0);
    let mut most = 0;
    for (i, start) in valid.iter().enumerate() {
        let inside = valid[i..].iter().filter(|a| a.1 < start.0 + window).count();
        assert!(
            inside <= limit,
            "{inside} VALID answers sent and received within one window of {window:?}"
        );
        most = most.max(inside);
    }
    most
}

#[test]
fn three_servers_and_two_cli_loops_never_admit_more_than_a_key_s_limit() {
    let env = Env::new();
    let key = env.create("busy", &["--rate", "20/4s"]);
    let servers = (0..3).map(|_| Server::start(&env, &[])).collect();
    let answers = hammer(&env, std::slice::from_ref(&key), 10, servers, 2);
    let most = most_in_a_window(&answers, std::time::Duration::from_secs(4), 20);
    let valid = answers.iter().filter(|a| a.2).count();
    // Not vacuous: the limit was reached, and refusals were answered.
    assert!(
        most >= 15,
        "at most {most} VALID in a window of {valid} VALID answers"
    );
    assert!(answers.len() > valid, "nothing was refused");
}

#[test]
fn an_owner_s_limit_holds_across_its_ten_keys_and_the_fleet() {
    let env = Env::new();
    let keys: Vec<String> = (0..10)
        .map(|i| env.create(&format!("k{i}"), &["--owner", "acme"]))
        .collect();
    env.run(&["owner", "set", "acme", "--rate", "20/4s"])
        .code(0);
    let servers = (0..3).map(|_| Server::start(&env, &[])).collect();
    let answers = hammer(&env, &keys, 10, servers, 2);
    let most = most_in_a_window(&answers, std::time::Duration::from_secs(4), 20);
    assert!(most >= 15, "at most {most} VALID in a window");
}

/// `serve` with its clock `offset` away (`faketime -f`'s format): the
/// library preloaded into serve itself, not through the `faketime`
/// wrapper, which would take the signal that stops serve and leave serve
/// running.
fn skewed(env: &Env, offset: &str) -> Server {
    let lib = std::fs::read_dir("/usr/lib")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("faketime/libfaketimeMT.so.1"))
        .chain([std::path::PathBuf::from(
            "/usr/lib/faketime/libfaketimeMT.so.1",
        )])
        .find(|p| p.exists())
        .expect("faketime is installed, but not its libfaketimeMT.so.1");
    let mut cmd = env.command();
    cmd.env("LD_PRELOAD", lib)
        .env("FAKETIME", offset)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    Server::run(cmd, false)
}

#[test]
#[cfg_attr(
    keysmith_no_faketime,
    ignore = "needs faketime: apt-get install faketime"
)]
fn a_server_with_a_skewed_clock_does_not_over_grant() {
    // An hour ahead, it would find every lease of the others out of its
    // windows; an hour behind, its own would seem to last an hour. The
    // store's clock decides, not theirs.
    let env = Env::new();
    let key = env.create("busy", &["--rate", "10/4s"]);
    let servers = vec![
        Server::start(&env, &[]),
        skewed(&env, "+1h"),
        skewed(&env, "-1h"),
    ];
    let answers = hammer(&env, std::slice::from_ref(&key), 9, servers, 0);
    let most = most_in_a_window(&answers, std::time::Duration::from_secs(4), 10);
    assert!(most >= 8, "at most {most} VALID in a window");
}

#[test]
fn a_server_killed_holding_leases_never_over_grants_and_its_budget_comes_back() {
    use std::time::{Duration, Instant};
    let env = Env::new();
    let key = env.create("busy", &["--rate", "20/4s"]);
    let window = Duration::from_secs(4);
    let mut answers: Vec<Answer> = Vec::new();
    let mut doomed = Server::start(&env, &[]);
    for _ in 0..3 {
        let sent = Instant::now();
        let status = doomed
            .auth("/v1/auth", &[("X-API-Key", key.as_str())])
            .status;
        answers.push((sent, Instant::now(), status == 200));
    }
    assert!(answers.iter().all(|a| a.2), "the first answers were VALID");
    doomed.child.kill().unwrap();
    let _ = doomed.child.wait();
    let killed = Instant::now();
    // Another server, pressed for more than three windows past the crash.
    let after = hammer(
        &env,
        std::slice::from_ref(&key),
        13,
        vec![Server::start(&env, &[])],
        0,
    );
    answers.extend(after.iter().copied());
    most_in_a_window(&answers, window, 20);
    // A window and a half after the crash, the dead leases are out of
    // every window: the whole budget is the survivor's.
    let back = killed + window * 3 / 2 + Duration::from_millis(100);
    let later: Vec<Answer> = after.iter().copied().filter(|a| a.0 >= back).collect();
    let most = most_in_a_window(&later, window, 20);
    assert!(
        most >= 19,
        "{most} VALID in a window after the budget came back"
    );
}

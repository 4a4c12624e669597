//! docs/src/limits.md in `serve`, on both backends: required scopes (field and
//! header), remaining uses spent exactly by several serve processes under
//! load and across a SIGKILL, and each process's sliding-window rate limit.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::Server;
use crate::common::Env;

fn key_json(env: &Env, key: &str) -> serde_json::Value {
    env.run(&["--json", "show", &Env::id_of(key)])
        .code(0)
        .json()
}

/// `/v1/auth` on a keep-alive connection: the status of each answer.
struct Conn {
    stream: TcpStream,
    request: Vec<u8>,
}

impl Conn {
    fn new(server: &Server, key: &str) -> Conn {
        let stream = server.connect();
        let request = format!("GET /v1/auth HTTP/1.1\r\nHost: t\r\nX-API-Key: {key}\r\n\r\n");
        Conn {
            stream,
            request: request.into_bytes(),
        }
    }

    /// The status, or `None` when the server went away.
    fn auth(&mut self) -> Option<u16> {
        self.stream.write_all(&self.request).ok()?;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                if got.len() >= end + 4 + length {
                    return head.split(' ').nth(1).and_then(|s| s.parse().ok());
                }
            }
            let n = self.stream.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            got.extend_from_slice(&buf[..n]);
        }
    }
}

#[test]
fn scopes_and_remaining_uses_in_every_endpoint() {
    let env = Env::new();
    let key = env.create(
        "sms sender",
        &[
            "--service",
            "sms",
            "--scope",
            "sms:*",
            "--scope",
            "billing:read",
            "--uses",
            "3",
        ],
    );
    let server = Server::start(&env, &["--flush-interval", "1h"]);
    let v = server.verify(
        &key,
        r#", "service": "sms", "scopes": ["sms:send", "billing:read"]"#,
    );
    assert_eq!(v["code"], "VALID");
    assert_eq!(v["scopes"], serde_json::json!(["sms:*", "billing:read"]));
    assert_eq!(v["remaining_uses"], 2);
    // Spent at once, not at the next flush an hour away.
    assert_eq!(key_json(&env, &key)["remaining_uses"], 2);
    let v = server.verify(&key, r#", "scopes": ["billing:write"]"#);
    assert_eq!(v["code"], "INSUFFICIENT_SCOPE");
    assert_eq!(v["valid"], false);
    assert_eq!(v["remaining_uses"], 2, "a refusal spends nothing");

    let with = |scopes: &'static str| [("X-API-Key", key.as_str()), ("X-Keysmith-Scopes", scopes)];
    let r = server.auth("/v1/auth", &with("sms:send, billing:read"));
    assert_eq!(r.status, 200, "{r:#?}");
    let r = server.auth("/v1/auth", &with("sms:send,admin"));
    assert_eq!(r.status, 403, "{r:#?}");
    assert_eq!(r.header("x-keysmith-code"), Some("INSUFFICIENT_SCOPE"));
    let r = server.auth("/v1/auth", &with("Not A Scope"));
    assert_eq!(r.status, 400, "{r:#?}");

    let batch = format!(r#"{{"keys": ["{key}", "{key}", "ks_nope"], "scopes": ["sms:read"]}}"#);
    let r = server.post("/v1/verify/batch", &batch);
    let results = r.json()["results"].clone();
    assert_eq!(results[0]["code"], "VALID");
    assert_eq!(results[0]["remaining_uses"], 0);
    assert_eq!(results[1]["code"], "USAGE_EXCEEDED");
    assert_eq!(results[2]["code"], "MALFORMED");
    assert_eq!(results[2]["remaining_uses"], serde_json::Value::Null);

    let r = server.auth("/v1/auth", &[("X-API-Key", key.as_str())]);
    assert_eq!(r.status, 403, "{r:#?}");
    assert_eq!(r.header("x-keysmith-code"), Some("USAGE_EXCEEDED"));
    assert_eq!(r.json()["code"], "USAGE_EXCEEDED");
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains("keysmith_verifications_total{code=\"USAGE_EXCEEDED\"} 2"),
        "{metrics}"
    );
    // A new budget from the CLI is honoured by the next request.
    env.run(&["edit", &Env::id_of(&key), "--uses", "1"]).code(0);
    assert_eq!(
        server
            .auth("/v1/auth", &[("X-API-Key", key.as_str())])
            .status,
        200
    );
    server.stop();
    let v = key_json(&env, &key);
    assert_eq!(
        (v["remaining_uses"].as_i64(), v["use_count"].as_i64()),
        (Some(0), Some(4))
    );
}

#[test]
fn two_serve_processes_under_load_grant_exactly_the_uses_there_are() {
    const USES: usize = 1000;
    let env = Env::new();
    let key = env.create("K", &["--uses", &USES.to_string()]);
    let servers = [Server::start(&env, &[]), Server::start(&env, &[])];
    // 16 keep-alive clients, 8 on each server, 100 requests each: 1,600.
    // No 503 either: writers take turns, within a process and across the
    // two, and none starves.
    let counts: Vec<Result<(usize, usize), String>> = std::thread::scope(|s| {
        let clients: Vec<_> = (0..16)
            .map(|c| {
                let (server, key) = (&servers[c % 2], &key);
                s.spawn(move || {
                    let mut conn = Conn::new(server, key);
                    let (mut ok, mut exceeded) = (0, 0);
                    for _ in 0..100 {
                        match conn.auth() {
                            Some(200) => ok += 1,
                            Some(403) => exceeded += 1,
                            other => return Err(format!("client {c}: {other:?}")),
                        }
                    }
                    Ok((ok, exceeded))
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let logs: Vec<String> = servers.into_iter().map(Server::stop).collect();
    let counts: Vec<(usize, usize)> = counts
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}; the servers said:\n{}", logs.join("\n")));
    let valid: usize = counts.iter().map(|c| c.0).sum();
    let exceeded: usize = counts.iter().map(|c| c.1).sum();
    assert_eq!((valid, exceeded), (USES, 600), "{counts:?}");
    let v = key_json(&env, &key);
    assert_eq!(v["remaining_uses"], 0);
    assert_eq!(v["use_count"], USES);
}

#[test]
fn a_sigkill_under_load_never_grants_extra_uses() {
    const USES: usize = 3000;
    const CLIENTS: usize = 4;
    let env = Env::new();
    let key = env.create("K", &["--uses", &USES.to_string()]);
    let mut granted = 0;
    // Killed mid-load, then started again until the uses run out.
    for round in 0..2 {
        let mut server = Server::start(&env, &[]);
        let pid = server.child.id().to_string();
        let got: Vec<usize> = std::thread::scope(|s| {
            let clients: Vec<_> = (0..CLIENTS)
                .map(|_| {
                    let (server, key) = (&server, &key);
                    s.spawn(move || {
                        let mut conn = Conn::new(server, key);
                        let mut ok = 0;
                        loop {
                            match conn.auth() {
                                Some(200) => ok += 1,
                                Some(403) | None => return ok,
                                Some(other) => panic!("{other}"),
                            }
                        }
                    })
                })
                .collect();
            if round == 0 {
                std::thread::sleep(Duration::from_millis(150));
                let killed = std::process::Command::new("kill")
                    .args(["-KILL", &pid])
                    .status();
                assert!(killed.unwrap().success(), "kill -KILL");
            }
            clients.into_iter().map(|c| c.join().unwrap()).collect()
        });
        granted += got.iter().sum::<usize>();
        if round == 0 {
            server.child.wait().unwrap();
            let left = key_json(&env, &key)["remaining_uses"].as_i64().unwrap() as usize;
            assert!(left > 0, "the kill came after the uses ran out: raise USES");
            // Spent = answered + at most one request in flight per client.
            let spent = USES - left;
            assert!(
                spent >= granted && spent <= granted + CLIENTS,
                "{spent} spent, {granted} answered VALID before the kill"
            );
        } else {
            server.stop();
        }
    }
    let v = key_json(&env, &key);
    assert_eq!(v["remaining_uses"], 0);
    assert!(
        granted <= USES && granted + CLIENTS >= USES,
        "{granted} VALID answers for {USES} uses"
    );
}

#[test]
fn the_rate_limit_admits_n_per_window_then_429_with_retry_after() {
    let env = Env::new();
    let key = env.create("K", &["--rate", "5/2s", "--uses", "100"]);
    let server = Server::start(&env, &[]);
    let header = [("X-API-Key", key.as_str())];
    let started = Instant::now();
    for i in 0..5 {
        assert_eq!(server.auth("/v1/auth", &header).status, 200, "request {i}");
    }
    let r = server.auth("/v1/auth", &header);
    let refused_at = Instant::now();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "too slow to test"
    );
    assert_eq!(r.status, 429, "{r:#?}");
    assert_eq!(r.header("x-keysmith-code"), Some("RATE_LIMITED"));
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    assert_eq!(r.json()["code"], "RATE_LIMITED");
    let v = server.verify(&key, "");
    assert_eq!(v["code"], "RATE_LIMITED");
    assert_eq!(v["valid"], false);
    // A refused answer spent no use: 5 of 100.
    assert_eq!(v["remaining_uses"], 95);
    // Once the window has slid past the first answers, more are admitted:
    // by the time Retry-After named (counted from when the refusal was
    // received, so never early; not from the test's start, as the first
    // answer waits for its lease from the store, which on a loaded machine
    // takes a while).
    let admitted_again = refused_at + Duration::from_secs(retry) + Duration::from_millis(100);
    std::thread::sleep(admitted_again.saturating_duration_since(Instant::now()));
    assert_eq!(server.auth("/v1/auth", &header).status, 200);
    // A key without a limit is never refused.
    let free = env.create("free", &[]);
    for _ in 0..20 {
        assert_eq!(
            server
                .auth("/v1/auth", &[("X-API-Key", free.as_str())])
                .status,
            200
        );
    }
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains("keysmith_verifications_total{code=\"RATE_LIMITED\"} 2"),
        "{metrics}"
    );
    server.stop();
    assert_eq!(key_json(&env, &key)["remaining_uses"], 94);
}

#[test]
fn the_rate_limit_holds_exactly_under_load() {
    // 200 per 2 s, with 4 clients pressing as fast as they can for 5 s: the
    // answers admitted in any 2 s never pass 200, and little short of it.
    let env = Env::new();
    let key = env.create("K", &["--rate", "200/2s"]);
    let server = Server::start(&env, &[]);
    let started = Instant::now();
    let admitted: Vec<Vec<Duration>> = std::thread::scope(|s| {
        let clients: Vec<_> = (0..4)
            .map(|_| {
                let (server, key) = (&server, &key);
                s.spawn(move || {
                    let mut conn = Conn::new(server, key);
                    let mut at = Vec::new();
                    while started.elapsed() < Duration::from_secs(5) {
                        let sent = started.elapsed();
                        match conn.auth() {
                            Some(200) => at.push(sent),
                            Some(429) => {}
                            other => panic!("{other:?}"),
                        }
                    }
                    at
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let mut all: Vec<Duration> = admitted.into_iter().flatten().collect();
    all.sort();
    // Times are taken when each request was sent: an answer is admitted
    // after that, so any 2 s of admissions fit in 2 s plus a round trip.
    for (i, t) in all.iter().enumerate() {
        let within = all[i..]
            .iter()
            .take_while(|u| **u < *t + Duration::from_millis(1900))
            .count();
        assert!(within <= 200, "{within} admitted within 1.9 s of {t:?}");
    }
    // 5 s is 2.5 windows: at least the first two full windows' worth.
    assert!(
        all.len() >= 400 && all.len() <= 600,
        "{} admitted in 5 s",
        all.len()
    );
    server.stop();
}

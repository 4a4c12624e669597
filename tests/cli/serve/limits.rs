//! docs/src/serve.md under abuse, on both backends: thousands of idle connections,
//! 100 MB bodies (declared and chunked), and a SIGKILL mid-load. Each abuser
//! is refused or cut off while other clients go on being served, serve's
//! memory stays bounded, and a kill loses at most the uses of one flush
//! interval.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{Server, use_count};
use crate::common::Env;

/// serve's resident memory, in MiB.
fn resident_mib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/PID/status");
    kib / 1024
}

/// Room for this many descriptors (and so for serve, which inherits it).
fn allow_descriptors(n: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum.unwrap_or(u64::MAX);
    if limit.current.is_some_and(|c| c < n) {
        limit.current = Some(n.min(hard));
        setrlimit(Resource::Nofile, limit).expect("raise the descriptor limit");
    }
}

fn served_promptly(server: &Server, key: &str) {
    let started = Instant::now();
    let r = server.auth("/v1/auth", &[("X-API-Key", key)]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a client waited {:?} behind the abusers",
        started.elapsed()
    );
}

#[test]
fn thousands_of_idle_connections_are_cut_off_while_others_are_served() {
    const IDLE: usize = 3000;
    allow_descriptors(IDLE as u64 + 1024);
    let env = Env::new();
    let key = env.create("K", &[]);
    let server = Server::start(
        &env,
        &["--header-timeout", "5s", "--max-connections", "5000"],
    );
    let started = Instant::now();
    let mut idle: Vec<TcpStream> = (0..IDLE).map(|_| server.connect()).collect();
    for _ in 0..10 {
        served_promptly(&server, &key);
    }
    let metrics = server.get("/metrics").body;
    let open: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("keysmith_open_connections "))
        .and_then(|v| v.trim().parse().ok())
        .expect("keysmith_open_connections");
    assert!(
        open as usize >= IDLE || started.elapsed() > Duration::from_secs(4),
        "{open} open after {:?}",
        started.elapsed()
    );
    let memory = resident_mib(&server);
    assert!(memory < 64, "{memory} MiB resident with {IDLE} connections");
    // Each is closed by serve once the header timeout passes.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 64];
    for (i, conn) in idle.iter_mut().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        conn.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        loop {
            match conn.read(&mut buf) {
                // A 408 answer or nothing before the close.
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                // A signal to this process (another test's child exiting).
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => panic!("idle connection {i} was not cut off: {e}"),
            }
        }
    }
    served_promptly(&server, &key);
    server.stop();
}

/// Sends a head declaring or chunking a 100 MB body, then up to 100 MB,
/// while a reader takes what comes back. Returns (bytes written before the
/// server stopped taking them, the answer's status line if one came).
fn send_100_mb(server: &Server, head: &str, chunked: bool) -> (u64, Option<String>) {
    const TOTAL: u64 = 100 * 1024 * 1024;
    let mut conn = server.connect();
    conn.set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut reader = conn.try_clone().unwrap();
    let answer = std::thread::spawn(move || {
        let mut got = Vec::new();
        let _ = reader.read_to_end(&mut got);
        let text = String::from_utf8_lossy(&got).into_owned();
        text.lines().next().map(str::to_owned)
    });
    let length = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {TOTAL}")
    };
    let mut written = 0u64;
    let sent = conn.write_all(format!("{head}\r\nHost: t\r\n{length}\r\n\r\n").as_bytes());
    if sent.is_ok() {
        let piece = vec![b'a'; 64 * 1024];
        let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
        chunk.extend_from_slice(&piece);
        chunk.extend_from_slice(b"\r\n");
        let block = if chunked { &chunk } else { &piece };
        while written < TOTAL {
            if conn.write_all(block).is_err() {
                break;
            }
            written += piece.len() as u64;
        }
    }
    drop(conn);
    (written, answer.join().unwrap())
}

#[test]
fn a_100_mb_body_is_refused_early_while_others_are_served() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let server = Server::start(&env, &[]);
    for (path, chunked) in [
        ("/v1/verify", false),
        ("/v1/verify", true),
        ("/v1/verify/batch", false),
        ("/v1/verify/batch", true),
    ] {
        let head = format!("POST {path} HTTP/1.1\r\nContent-Type: application/json");
        let (written, status) = send_100_mb(&server, &head, chunked);
        // Cut off well before the end (a few socket buffers past the limit),
        // with a 413 when the client could still read it.
        assert!(
            written < 50 * 1024 * 1024,
            "{path} (chunked: {chunked}): serve took {written} bytes"
        );
        if let Some(status) = status {
            assert!(
                status.is_empty() || status.starts_with("HTTP/1.1 413"),
                "{path} (chunked: {chunked}): {status}"
            );
        }
        served_promptly(&server, &key);
    }
    let memory = resident_mib(&server);
    assert!(memory < 64, "{memory} MiB resident after the bodies");
    server.stop();
}

#[test]
fn a_sigkill_loses_at_most_one_flush_interval_of_uses() {
    const INTERVAL: Duration = Duration::from_millis(200);
    let env = Env::new();
    let key = env.create("K", &[]);
    let id = Env::id_of(&key);
    let mut server = Server::start(&env, &["--flush-interval", "200ms"]);
    // Keep-alive requests for a while, each answer's time noted.
    let mut conn = server.connect();
    let request = format!("GET /v1/auth HTTP/1.1\r\nHost: t\r\nX-API-Key: {key}\r\n\r\n");
    let mut answered: Vec<Instant> = Vec::new();
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        conn.write_all(request.as_bytes()).unwrap();
        // Headers only: the answer ends with its blank line.
        let mut got = Vec::new();
        while !got.ends_with(b"\r\n\r\n") {
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "serve closed the connection");
            got.extend_from_slice(&buf[..n]);
        }
        assert!(
            got.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&got)
        );
        answered.push(Instant::now());
    }
    server.child.kill().unwrap();
    let killed = Instant::now();
    server.child.wait().unwrap();
    let recorded = use_count(&env, &id) as usize;
    // Everything answered before the last flush that could have finished
    // (an interval, and as long again for the write itself) was written.
    let surely_flushed = answered
        .iter()
        .filter(|t| killed.duration_since(**t) > INTERVAL * 3)
        .count();
    assert!(
        recorded >= surely_flushed && recorded <= answered.len(),
        "{recorded} uses recorded; {} answered, {surely_flushed} of them over 3 intervals before the kill",
        answered.len()
    );
}

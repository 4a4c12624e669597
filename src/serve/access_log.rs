//! `--access-log`: one line per request (time, client, method, path, status,
//! code, key id, latency), as text or as one JSON object, for people and
//! for log shippers.
//!
//! Off the request path: a request hands its facts (a few words and the
//! path it was sent) to a bounded channel without waiting (`try_send`, no
//! lock held by anyone while a line is formatted or written), and a thread
//! of its own masks, escapes, formats and writes them through a buffer.
//! While requests come, the writer sleeps `POLL` between rounds instead of
//! waiting on the channel, so that a request never has to wake it (a
//! futex wake per request cost the answering threads more than all the
//! rest of the log); the buffer is written out when full, at most
//! `FLUSH_AFTER` after its oldest line, once requests stop coming, and
//! when serve stops. When the writer falls behind by
//! more than `QUEUE` lines, later lines are dropped and counted
//! (`keysmith_access_log_dropped_total`) rather than slowing the answers.
//!
//! The path and query are the client's: a key in them (`/v1/auth/<key>`,
//! `?api_key=<key>`, percent-encoded or not) is masked as in every message
//! (`redact`), and in the text form every character a terminal would obey
//! is escaped (`Untrusted`); JSON escapes by its own rules.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::error::{Error, Failure, Result};
use crate::redact::{Untrusted, redact};

/// Lines waiting for the writer, at most.
const QUEUE: usize = 16 * 1024;
/// The writer's buffer.
const BUFFER: usize = 64 * 1024;
/// How long a line may wait in the buffer.
const FLUSH_AFTER: Duration = Duration::from_millis(100);
/// The writer's sleep between rounds while requests come.
const POLL: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub destination: Destination,
    pub format: Format,
}

/// Who sent a request.
#[derive(Debug, Clone, Copy)]
pub enum Client {
    Tcp(SocketAddr),
    /// A unix socket: its peers have no address worth showing.
    Unix,
}

/// What is logged of one request, as the request path hands it over.
#[derive(Debug)]
pub struct Entry {
    /// When the request's head had arrived.
    pub time: SystemTime,
    pub client: Client,
    pub method: hyper::Method,
    /// The request target as sent: path and query, not yet masked.
    pub target: String,
    pub status: u16,
    /// The verdict's code (`VALID`, `NOT_FOUND`...), when a key was judged.
    pub code: Option<&'static str>,
    /// The id of the key found, when one was.
    pub key_id: Option<String>,
    /// From the head's arrival to the answer ready.
    pub latency: Duration,
}

/// The verdict of a request, noted on its answer (a response extension,
/// never sent) for the log line.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub code: &'static str,
    pub key_id: Option<String>,
}

/// The sending side, shared by every request.
pub struct AccessLog {
    tx: SyncSender<Entry>,
}

impl AccessLog {
    /// Opens the destination (a file is created 0640 and appended to) and
    /// starts the writer, which stops, having written every line, once
    /// the `AccessLog` is dropped.
    pub fn start(config: &Config) -> Result<(AccessLog, std::thread::JoinHandle<()>)> {
        let out: Box<dyn Write + Send> = match &config.destination {
            Destination::Stdout => Box::new(std::io::stdout()),
            Destination::File(path) => {
                let mut options = std::fs::OpenOptions::new();
                options.append(true).create(true);
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
                let file = options.open(path).map_err(|e| {
                    Error::failed(
                        Failure::File,
                        format!(
                            "--access-log {}: cannot open it: {e}",
                            Untrusted(&path.display().to_string())
                        ),
                    )
                })?;
                Box::new(file)
            }
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let format = config.format;
        let writer = std::thread::Builder::new()
            .name("keysmith-log".into())
            .spawn(move || write_all(&rx, out, format))
            .map_err(|e| {
                Error::failed(
                    Failure::Runtime,
                    format!("cannot start the access log: {e}"),
                )
            })?;
        Ok((AccessLog { tx }, writer))
    }

    /// Hands `entry` to the writer without waiting; `false` when it was
    /// dropped (the writer is that far behind).
    pub fn record(&self, entry: Entry) -> bool {
        match self.tx.try_send(entry) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }
}

/// The writer: a line for each entry, until every sender is gone.
fn write_all(rx: &Receiver<Entry>, out: Box<dyn Write + Send>, format: Format) {
    use std::time::Instant;
    let mut out = std::io::BufWriter::with_capacity(BUFFER, out);
    let mut line = Vec::with_capacity(512);
    let mut clock = Clock::default();
    let mut failing = false;
    let mut report = |result: std::io::Result<()>| match result {
        Ok(()) => failing = false,
        // Said once, not once a line; said again after it recovered.
        Err(e) if !failing => {
            failing = true;
            eprintln!("keysmith serve: cannot write the access log (lines are lost): {e}");
        }
        Err(_) => {}
    };
    let mut write = |entry: Entry, out: &mut std::io::BufWriter<_>| {
        line.clear();
        clock.format_line(&entry, format, &mut line);
        out.write_all(&line)
    };
    // Idle: wait on the channel (the next request wakes the writer).
    while let Ok(first) = rx.recv() {
        report(write(first, &mut out));
        let mut due = Instant::now() + FLUSH_AFTER;
        // Busy: rounds of what came meanwhile, until a round finds none.
        loop {
            std::thread::sleep(POLL);
            let mut got = 0;
            while let Ok(entry) = rx.try_recv() {
                report(write(entry, &mut out));
                got += 1;
            }
            if got == 0 {
                break;
            }
            if Instant::now() >= due {
                report(out.flush());
                due = Instant::now() + FLUSH_AFTER;
            }
        }
        report(out.flush());
    }
    report(out.flush());
}

/// The time of a line, its seconds formatted once a second.
#[derive(Default)]
struct Clock {
    second: Option<(u64, String)>,
}

impl Clock {
    /// `2026-01-05T10:00:00.123Z`.
    fn format(&mut self, time: SystemTime) -> String {
        let since = time
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let secs = since.as_secs();
        let prefix = match &self.second {
            Some((s, prefix)) if *s == secs => prefix,
            _ => {
                let whole = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
                let text = chrono::DateTime::<chrono::Utc>::from(whole)
                    .format("%Y-%m-%dT%H:%M:%S")
                    .to_string();
                &self.second.insert((secs, text)).1
            }
        };
        format!("{prefix}.{:03}Z", since.subsec_millis())
    }

    fn format_line(&mut self, entry: &Entry, format: Format, out: &mut Vec<u8>) {
        let time = self.format(entry.time);
        format_line_at(&time, entry, format, out);
    }
}

/// One line, newline included, as `--access-log-format` asks (the tests' entry point).
#[cfg(test)]
fn format_line(entry: &Entry, format: Format, out: &mut Vec<u8>) {
    Clock::default().format_line(entry, format, out);
}

fn format_line_at(time: &str, entry: &Entry, format: Format, out: &mut Vec<u8>) {
    let client = match entry.client {
        Client::Tcp(addr) => addr.to_string(),
        Client::Unix => "unix".to_owned(),
    };
    // Milliseconds, to the microsecond.
    let latency = (entry.latency.as_micros() as f64) / 1000.0;
    match format {
        Format::Text => {
            let _ = writeln!(
                out,
                "{time} {client} {} {} {} {} {} {latency:.3}ms",
                Untrusted(entry.method.as_str()),
                Untrusted(&entry.target),
                entry.status,
                entry.code.unwrap_or("-"),
                Untrusted::or(entry.key_id.as_deref(), "-"),
            );
        }
        Format::Json => {
            #[derive(Serialize)]
            struct Line<'a> {
                time: &'a str,
                client: &'a str,
                method: &'a str,
                path: &'a str,
                status: u16,
                code: Option<&'a str>,
                key_id: Option<&'a str>,
                latency_ms: f64,
            }
            let path = redact(&entry.target);
            let line = Line {
                time,
                client: &client,
                method: entry.method.as_str(),
                path: &path,
                status: entry.status,
                code: entry.code,
                key_id: entry.key_id.as_deref(),
                latency_ms: (latency * 1000.0).round() / 1000.0,
            };
            let _ = serde_json::to_writer(&mut *out, &line);
            out.push(b'\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(target: &str) -> Entry {
        Entry {
            time: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            client: Client::Tcp("127.0.0.1:4242".parse().unwrap()),
            method: hyper::Method::GET,
            target: target.to_owned(),
            status: 401,
            code: Some("NOT_FOUND"),
            key_id: None,
            latency: Duration::from_micros(1234),
        }
    }

    fn line(e: &Entry, format: Format) -> String {
        let mut out = Vec::new();
        format_line(e, format, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_and_json_lines() {
        let e = entry("/v1/auth?x=1");
        assert_eq!(
            line(&e, Format::Text),
            "2023-11-14T22:13:20.123Z 127.0.0.1:4242 GET /v1/auth?x=1 401 NOT_FOUND - 1.234ms\n"
        );
        let v: serde_json::Value = serde_json::from_str(&line(&e, Format::Json)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"time": "2023-11-14T22:13:20.123Z", "client": "127.0.0.1:4242",
                "method": "GET", "path": "/v1/auth?x=1", "status": 401, "code": "NOT_FOUND",
                "key_id": null, "latency_ms": 1.234})
        );
    }

    #[test]
    fn the_clock_formats_each_second_once_and_every_millisecond() {
        let mut clock = Clock::default();
        let at = |ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
        assert_eq!(
            clock.format(at(1_700_000_000_123)),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            clock.format(at(1_700_000_000_999)),
            "2023-11-14T22:13:20.999Z"
        );
        assert_eq!(
            clock.format(at(1_700_000_001_000)),
            "2023-11-14T22:13:21.000Z"
        );
        assert_eq!(
            clock.format(at(1_699_999_999_007)),
            "2023-11-14T22:13:19.007Z"
        );
    }

    #[test]
    fn keys_are_masked_and_controls_escaped() {
        let key = crate::mint("ks");
        let secret = key.secret.expose();
        let (prefix_id, _) = secret.rsplit_once('_').unwrap();
        let masked = format!("{prefix_id}_********");
        for target in [
            format!("/v1/auth/{secret}"),
            format!("/v1/auth?api_key={secret}"),
            format!("/v1/auth?api_key={}", secret.replace('_', "%5F")),
        ] {
            for format in [Format::Text, Format::Json] {
                let shown = line(&entry(&target), format);
                assert!(!shown.contains(&secret[secret.len() - 20..]), "{shown}");
                assert!(shown.contains("********"), "{shown}");
                if !target.contains('%') {
                    assert!(shown.contains(&masked), "{shown}");
                }
            }
        }
        let shown = line(&entry("/a\u{1b}[2J\n"), Format::Text);
        assert!(shown.contains("/a\\u{1b}[2J\\n 401"), "{shown}");
        assert_eq!(shown.matches('\n').count(), 1);
    }
}

//! The bound of docs/src/serve.md on a request head, exactly: 64 KiB (65,536 bytes, from
//! the request line to the blank line that ends the headers) is read, one
//! byte more is 431, whether the head arrives in one write or in many. On
//! real TCP. (hyper's buffer limit alone is checked only on a head not yet
//! complete: one of up to about 112 KiB sent in one write was taken.)

use std::io::{Read, Write};
use std::time::Duration;

use super::Server;
use crate::common::Env;

const LIMIT: usize = 64 * 1024;

/// A `GET /healthz` head of exactly `len` bytes, padded by one header.
fn head_of(len: usize) -> Vec<u8> {
    let start = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Pad: ";
    let end = "\r\n\r\n";
    let pad = len - start.len() - end.len();
    let head = format!("{start}{}{end}", "a".repeat(pad));
    assert_eq!(head.len(), len);
    head.into_bytes()
}

/// Sends `head` in one write, or in pieces of `piece` bytes with a pause
/// after each (each its own TCP segment and read); what came back, up to
/// the close (a reset after the answer counts as the close).
fn send(server: &Server, head: &[u8], piece: Option<usize>) -> String {
    let mut s = server.connect();
    s.set_nodelay(true).unwrap();
    match piece {
        None => {
            let _ = s.write_all(head);
        }
        Some(n) => {
            for chunk in head.chunks(n) {
                if s.write_all(chunk).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_head_over_64_kib_is_431_in_one_write_or_many() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let server = Server::start(&env, &[]);
    for (what, piece) in [
        ("one write", None),
        ("1000-byte writes", Some(1000)),
        ("8 KiB writes", Some(8192)),
    ] {
        let r = send(&server, &head_of(LIMIT), piece);
        assert!(r.starts_with("HTTP/1.1 200 "), "{what}, 64 KiB: {r}");
        for over in [LIMIT + 1, LIMIT + 100, 100 * 1024, 112 * 1024] {
            let r = send(&server, &head_of(over), piece);
            assert!(
                r.starts_with("HTTP/1.1 431 "),
                "{what}, {over} bytes: {:?}",
                &r[..r.len().min(200)]
            );
        }
    }
    // A head ending in the same write as the bytes before it, at the end
    // of a read: the last write carries the last 2 bytes over the limit.
    let head = head_of(LIMIT + 2);
    let mut s = server.connect();
    s.write_all(&head[..LIMIT - 10]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(&head[LIMIT - 10..]).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(
        got.starts_with(b"HTTP/1.1 431 "),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    // Still serving.
    let r = server.auth("/v1/auth", &[("X-API-Key", &key)]);
    assert_eq!(r.status, 200, "{r:#?}");
    server.stop();
}

//! `serve --tls-cert --tls-key`: every listener speaks HTTPS, checked with
//! an in-process rustls client trusting a throwaway CA made by `openssl`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use super::Server;
use crate::common::Env;

/// A CA and a server certificate it signed for 127.0.0.1 and localhost,
/// in `dir`: ca.crt, server.crt, server.key (as .ci/postgres.sh makes them).
fn certificates(dir: &Path) {
    let script = r#"set -e
openssl req -x509 -new -nodes -days 2 -subj "/CN=keysmith test CA" \
    -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout ca.key -out ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -new -nodes -subj "/CN=localhost" \
    -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout server.key -out server.csr
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.crt
chmod 600 server.key
"#;
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "making certificates: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One request over TLS (`Connection: close`): the status and the body.
fn https(addr: &str, ca: &Path, request: &str) -> (u16, String) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    // A peer that closes without close_notify ends the read with an error
    // after the answer: what was read is what counts.
    let _ = tls.read_to_end(&mut raw);
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}

#[test]
fn tls_makes_every_listener_speak_https() {
    let env = Env::new();
    let key = env.create("K", &[]);
    let dir = env.dir.path().join("tls");
    std::fs::create_dir(&dir).unwrap();
    certificates(&dir);
    let (cert, private) = (dir.join("server.crt"), dir.join("server.key"));
    let server = Server::start(
        &env,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            private.to_str().unwrap(),
        ],
    );
    let ca = dir.join("ca.crt");
    let (status, body) = https(
        &server.addr,
        &ca,
        "GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    );
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let json = format!("{{\"key\": \"{key}\"}}");
    let (status, body) = https(
        &server.addr,
        &ca,
        &format!(
            "POST /v1/verify HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
            json.len()
        ),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["code"],
        "VALID"
    );
    let (status, _) = https(
        &server.addr,
        &ca,
        &format!(
            "GET /v1/auth HTTP/1.1\r\nHost: test\r\nConnection: close\r\nX-API-Key: {key}\r\n\r\n"
        ),
    );
    assert_eq!(status, 200);

    // Plain HTTP on the TLS port is not answered as HTTP; others go on.
    let mut plain = server.connect();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = plain.read_to_end(&mut raw);
    assert!(!String::from_utf8_lossy(&raw).contains("200 OK"), "{raw:?}");
    let (status, _) = https(
        &server.addr,
        &ca,
        "GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    let log = server.stop();
    assert!(log.contains("listening on https://127.0.0.1:"), "{log}");
    assert!(!log.contains(&key), "{log}");

    // A key that is not the certificate's, or a file that is not PEM: a
    // usage error before anything is served.
    let other = env.dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    certificates(&other);
    let mismatched = other.join("server.key");
    for (c, k) in [(&cert, &mismatched), (&private, &private), (&cert, &cert)] {
        let run = env.run(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            c.to_str().unwrap(),
            "--tls-key",
            k.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 2, "{run:#?}");
        assert!(run.stderr.contains("--tls-"), "{run:#?}");
        assert!(!run.stderr.contains("PRIVATE KEY-----\n"), "{run:#?}");
    }
    env.run(&["serve", "--tls-cert", cert.to_str().unwrap()])
        .code(2);
}

#[test]
fn a_tls_key_every_user_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.create("K", &[]);
    let dir = env.dir.path().join("tls");
    std::fs::create_dir(&dir).unwrap();
    certificates(&dir);
    let (cert, private) = (dir.join("server.crt"), dir.join("server.key"));
    let args = [
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        private.to_str().unwrap(),
    ];
    let warning = format!(
        "warning: the TLS key {0} can be read by every user; fix it with: chmod o-r '{0}'",
        private.display()
    );
    for (mode, warned) in [(0o644, true), (0o604, true), (0o600, false), (0o640, false)] {
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(mode)).unwrap();
        let log = Server::start(&env, &args).stop();
        assert_eq!(log.contains(&warning), warned, "{mode:o}: {log}");
        // Said as the store's own warning is, once, before serving.
        if warned {
            assert_eq!(log.matches("warning:").count(), 1, "{log}");
            assert!(log.find(&warning) < log.find("listening on"), "{log}");
        }
    }
}

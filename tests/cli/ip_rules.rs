//! IP rules (docs/src/owners.md) through the binary and `serve`: keys and
//! owners both must allow the client; no known address fails closed;
//! `/v1/auth` takes the peer, or a trusted proxy's one header. On both
//! backends.

use serde_json::json;

use crate::common::Env;
use crate::serve::Server;

fn code(env: &Env, key: &str, args: &[&str]) -> (i32, String) {
    let mut all = vec!["--json", "verify"];
    all.extend_from_slice(args);
    let run = env.run_stdin(&all, key);
    (run.code, run.json()["code"].as_str().unwrap().to_owned())
}

#[test]
fn a_key_and_its_owner_must_both_allow_the_client() {
    let env = Env::new();
    let office = env.create(
        "office",
        &[
            "--allow-ip",
            "203.0.113.0/24",
            "--allow-ip",
            "2001:db8::/32",
            "--owner",
            "acme",
        ],
    );
    let id = Env::id_of(&office);
    let shown = env.run(&["--json", "show", &id]).code(0).json();
    assert_eq!(
        shown["allow_ip"],
        json!(["203.0.113.0/24", "2001:db8::/32"])
    );
    let text = env.run(&["show", &id]).code(0).stdout;
    assert!(
        text.contains("Allowed IPs   203.0.113.0/24, 2001:db8::/32"),
        "{text}"
    );

    assert_eq!(
        code(&env, &office, &["--ip", "203.0.113.7"]),
        (0, "VALID".into())
    );
    assert_eq!(
        code(&env, &office, &["--ip", "::ffff:203.0.113.7"]),
        (0, "VALID".into())
    );
    assert_eq!(
        code(&env, &office, &["--ip", "2001:db8::1"]),
        (0, "VALID".into())
    );
    assert_eq!(
        code(&env, &office, &["--ip", "198.51.100.1"]),
        (1, "IP_NOT_ALLOWED".into())
    );
    // No address: refused (fail closed), and before any other refusal.
    assert_eq!(code(&env, &office, &[]), (1, "IP_NOT_ALLOWED".into()));
    env.run(&["disable", &id]).code(0);
    assert_eq!(
        code(&env, &office, &["--ip", "198.51.100.1"]),
        (1, "IP_NOT_ALLOWED".into())
    );
    assert_eq!(
        code(&env, &office, &["--ip", "203.0.113.7"]),
        (1, "DISABLED".into())
    );
    env.run(&["enable", &id]).code(0);

    // The owner narrows it further: both must allow.
    env.run(&["owner", "set", "acme", "--allow-ip", "203.0.113.128/25"])
        .code(0);
    assert_eq!(
        code(&env, &office, &["--ip", "203.0.113.7"]),
        (1, "IP_NOT_ALLOWED".into())
    );
    assert_eq!(
        code(&env, &office, &["--ip", "203.0.113.200"]),
        (0, "VALID".into())
    );
    env.run(&["owner", "set", "acme", "--no-allow-ip"]).code(0);
    env.run(&["edit", &id, "--no-allow-ip"]).code(0);
    assert_eq!(code(&env, &office, &[]), (0, "VALID".into()));

    // Bad rules and addresses: one error line, exit 2, nothing written.
    let before = env.count("keys");
    for bad in ["10.0.0.0/33", "10.0.0/8", "example.com", "::/129"] {
        env.run(&["create", "--name", "bad", "--allow-ip", bad])
            .error(2, "invalid IP rule");
    }
    env.run_stdin(&["verify", "--ip", "nonsense"], &office)
        .error(2, "invalid address");
    env.run_stdin(
        &["create", "--from", "-"],
        "{\"name\": \"x\", \"allow_ip\": [\"300.1.1.1\"]}\n",
    )
    .error(2, "invalid IP rule");
    assert_eq!(env.count("keys"), before);
}

#[test]
fn serve_takes_the_peer_or_a_trusted_proxy_s_one_header() {
    let env = Env::new();
    let local = env.create("local", &["--allow-ip", "127.0.0.1"]);
    let office = env.create("office", &["--allow-ip", "10.0.0.0/8"]);

    let server = Server::start(&env, &[]);
    // /v1/verify: the caller says who its client is.
    assert_eq!(
        server.verify(&office, ", \"ip\": \"10.1.2.3\"")["code"],
        "VALID"
    );
    assert_eq!(server.verify(&office, "")["code"], "IP_NOT_ALLOWED");
    let r = server.post(
        "/v1/verify",
        &format!(r#"{{"key": "{office}", "ip": "10.1"}}"#),
    );
    assert_eq!(r.status, 400, "{r:#?}");
    // /v1/auth: the peer (127.0.0.1); headers from an untrusted peer are not read.
    let forged = [("X-Real-IP", "10.1.2.3"), ("X-Forwarded-For", "10.1.2.3")];
    let r = server.auth(
        "/v1/auth",
        &[&[("X-API-Key", local.as_str())][..], &forged[..]].concat(),
    );
    assert_eq!(r.status, 200, "{r:#?}");
    let r = server.auth(
        "/v1/auth",
        &[&[("X-API-Key", office.as_str())][..], &forged[..]].concat(),
    );
    assert_eq!(
        (r.status, r.header("x-keysmith-code")),
        (403, Some("IP_NOT_ALLOWED"))
    );
    server.stop();

    // The peer a trusted proxy: the one header named, not the other.
    let server = Server::start(
        &env,
        &[
            "--trusted-proxy",
            "127.0.0.1",
            "--client-ip-header",
            "x-real-ip",
        ],
    );
    let r = server.auth(
        "/v1/auth",
        &[("X-API-Key", office.as_str()), ("X-Real-IP", "10.1.2.3")],
    );
    assert_eq!(r.status, 200, "{r:#?}");
    let r = server.auth(
        "/v1/auth",
        &[
            ("X-API-Key", office.as_str()),
            ("X-Forwarded-For", "10.1.2.3"),
        ],
    );
    assert_eq!(
        (r.status, r.header("x-keysmith-code")),
        (403, Some("IP_NOT_ALLOWED"))
    );
    server.stop();

    let server = Server::start(
        &env,
        &[
            "--trusted-proxy",
            "127.0.0.0/8",
            "--client-ip-header",
            "x-forwarded-for",
        ],
    );
    // The rightmost address no trusted proxy has.
    let r = server.auth(
        "/v1/auth",
        &[
            ("X-API-Key", office.as_str()),
            ("X-Forwarded-For", "198.51.100.1, 10.1.2.3"),
        ],
    );
    assert_eq!(r.status, 200, "{r:#?}");
    let r = server.auth(
        "/v1/auth",
        &[
            ("X-API-Key", office.as_str()),
            ("X-Forwarded-For", "10.1.2.3, 198.51.100.1"),
        ],
    );
    assert_eq!(r.status, 403, "{r:#?}");
    server.stop();

    // One without the other is a usage error.
    let run = env.run(&["serve", "--trusted-proxy", "127.0.0.1"]).code(2);
    assert!(run.stderr.contains("--client-ip-header"), "{run:#?}");
}

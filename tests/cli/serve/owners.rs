//! docs/src/owners.md through `serve`: the owner and metadata come with
//! VALID only, on `/v1/verify`, `/v1/verify/batch` and `/v1/auth` (the
//! metadata header only with `--meta-header`). On both backends.

use serde_json::{Value, json};

use super::Server;
use crate::common::Env;

#[test]
fn the_owner_and_metadata_come_with_valid_only() {
    let env = Env::new();
    let meta = r#"{"plan":"pro","city":"Zürich 🏔"}"#;
    let key = env.create(
        "acme prod",
        &["--service", "sms", "--owner", "acme", "--meta", meta],
    );
    let plain = env.create("plain", &["--service", "sms"]);
    let off = env.create("off", &["--owner", "acme", "--meta", meta]);
    env.run(&["disable", &off]).code(0);
    let stored: Value = serde_json::from_str(meta).unwrap();

    let server = Server::start(&env, &[]);
    let v = server.verify(&key, ", \"service\": \"sms\"");
    assert_eq!(
        (v["code"].as_str(), &v["owner"], &v["meta"]),
        (Some("VALID"), &json!("acme"), &stored)
    );
    for (presented, extra, code) in [
        (&key, ", \"service\": \"mail\"", "WRONG_SERVICE"),
        (&off, "", "DISABLED"),
        (&plain, "", "VALID"),
    ] {
        let v = server.verify(presented, extra);
        assert_eq!(v["code"], code);
        assert_eq!(
            (&v["owner"], &v["meta"]),
            (&Value::Null, &Value::Null),
            "{v}"
        );
    }
    let batch = server.post(
        "/v1/verify/batch",
        &format!(r#"{{"keys": ["{key}", "{off}"]}}"#),
    );
    assert_eq!(batch.status, 200, "{batch:#?}");
    let answers = batch.json();
    assert_eq!(answers["results"][0]["owner"], "acme");
    assert_eq!(answers["results"][0]["meta"], stored);
    assert_eq!(answers["results"][1]["owner"], Value::Null);

    // /v1/auth: the owner on 200; no metadata without --meta-header.
    let r = server.auth("/v1/auth", &[("X-API-Key", key.as_str())]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.header("x-keysmith-owner"), Some("acme"));
    assert_eq!(r.header("x-keysmith-meta"), None);
    // Empty for a key without one (for Caddy's copy_headers).
    let r = server.auth("/v1/auth", &[("X-API-Key", plain.as_str())]);
    assert_eq!((r.status, r.header("x-keysmith-owner")), (200, Some("")));
    let r = server.auth("/v1/auth", &[("X-API-Key", off.as_str())]);
    assert_eq!((r.status, r.header("x-keysmith-owner")), (403, None));
    server.stop();

    // With it: the metadata as ASCII JSON that reads back as stored.
    let server = Server::start(&env, &["--meta-header"]);
    let r = server.auth("/v1/auth", &[("X-API-Key", key.as_str())]);
    assert_eq!(r.status, 200, "{r:#?}");
    let header = r.header("x-keysmith-meta").expect("x-keysmith-meta");
    assert!(header.is_ascii(), "{header}");
    assert!(header.contains(r"Z\u00fcrich \ud83c\udfd4"), "{header}");
    assert_eq!(serde_json::from_str::<Value>(header).unwrap(), stored);
    let r = server.auth("/v1/auth", &[("X-API-Key", plain.as_str())]);
    assert_eq!((r.status, r.header("x-keysmith-meta")), (200, Some("")));
    let r = server.auth("/v1/auth", &[("X-API-Key", off.as_str())]);
    assert_eq!((r.status, r.header("x-keysmith-meta")), (403, None));
    server.stop();
}

#[test]
fn an_owner_is_switched_off_at_the_next_request_and_its_limits_hold_in_serve() {
    let env = Env::new();
    let a = env.create("a", &["--owner", "acme"]);
    let b = env.create("b", &["--owner", "acme"]);
    let other = env.create("other", &["--owner", "globex"]);
    let server = Server::start(&env, &[]);
    // Read and cached: the owner's change is honoured by the next request.
    assert_eq!(server.verify(&a, "")["code"], "VALID");
    env.run(&["owner", "disable", "acme"]).code(0);
    assert_eq!(server.verify(&a, "")["code"], "DISABLED");
    assert_eq!(server.verify(&b, "")["code"], "DISABLED");
    assert_eq!(server.verify(&other, "")["code"], "VALID");
    let r = server.auth("/v1/auth", &[("X-API-Key", a.as_str())]);
    assert_eq!(
        (r.status, r.header("x-keysmith-code")),
        (403, Some("DISABLED"))
    );
    env.run(&["owner", "enable", "acme"]).code(0);
    assert_eq!(server.verify(&a, "")["code"], "VALID");

    // Uses shared by both keys, exact.
    env.run(&["owner", "set", "acme", "--uses", "3"]).code(0);
    let codes: Vec<Value> = [&a, &b, &a, &b]
        .iter()
        .map(|k| server.verify(k, "")["code"].clone())
        .collect();
    assert_eq!(codes, ["VALID", "VALID", "VALID", "USAGE_EXCEEDED"]);

    // A rate limit shared by both keys: 2 in 10 s in all, then 429.
    env.run(&[
        "owner",
        "set",
        "acme",
        "--unlimited-uses",
        "--rate",
        "2/10s",
    ])
    .code(0);
    assert_eq!(server.verify(&a, "")["code"], "VALID");
    assert_eq!(server.verify(&b, "")["code"], "VALID");
    assert_eq!(server.verify(&a, "")["code"], "RATE_LIMITED");
    let r = server.auth("/v1/auth", &[("X-API-Key", b.as_str())]);
    assert_eq!(r.status, 429, "{r:#?}");
    assert!(r.header("retry-after").is_some(), "{r:#?}");
    assert_eq!(server.verify(&other, "")["code"], "VALID");
    server.stop();
}

#[test]
fn a_cost_is_spent_per_request_and_never_taken_from_a_client_header() {
    let env = Env::new();
    let key = env.create("tokens", &["--uses", "20"]);
    let other = env.create("other", &["--uses", "20"]);
    let id = Env::id_of(&key);
    let server = Server::start(&env, &[]);
    let v = server.verify(&key, ", \"cost\": 5");
    assert_eq!(
        (v["code"].as_str(), v["remaining_uses"].as_i64()),
        (Some("VALID"), Some(15))
    );
    // A batch: a default cost, and a key's own.
    let r = server.post(
        "/v1/verify/batch",
        &format!(r#"{{"cost": 2, "keys": ["{key}", {{"key": "{other}", "cost": 7}}, "{key}"]}}"#),
    );
    assert_eq!(r.status, 200, "{r:#?}");
    let left: Vec<Option<i64>> = r.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["remaining_uses"].as_i64())
        .collect();
    assert_eq!(left, [Some(13), Some(13), Some(11)]);
    // More than is left: USAGE_EXCEEDED, nothing spent.
    let v = server.verify(&key, ", \"cost\": 12");
    assert_eq!(
        (v["code"].as_str(), v["remaining_uses"].as_i64()),
        (Some("USAGE_EXCEEDED"), Some(11))
    );
    for bad in ["-1", "\"5\"", "1.5", "1000000000001"] {
        let r = server.post(
            "/v1/verify",
            &format!(r#"{{"key": "{key}", "cost": {bad}}}"#),
        );
        assert_eq!(r.status, 400, "{bad}: {r:#?}");
    }

    // /v1/auth: the cost of the auth URI's query; a client's header is not read.
    let r = server.auth(
        "/v1/auth?cost=3",
        &[("X-API-Key", key.as_str()), ("X-Keysmith-Cost", "0")],
    );
    assert_eq!(r.status, 200, "{r:#?}");
    let r = server.auth(
        "/v1/auth",
        &[("X-API-Key", key.as_str()), ("X-Keysmith-Cost", "0")],
    );
    assert_eq!(r.status, 200, "{r:#?}");
    for query in ["cost=0", "cost=-1", "cost=x"] {
        let r = server.auth(&format!("/v1/auth?{query}"), &[("X-API-Key", key.as_str())]);
        assert_eq!(r.status, 400, "{query}: {r:#?}");
    }
    server.stop();
    let shown = env.run(&["--json", "show", &id]).code(0).json();
    assert_eq!(shown["remaining_uses"], 11 - 3 - 1);
}

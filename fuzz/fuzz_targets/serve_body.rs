//! The JSON bodies of `keysmith serve`'s `POST /v1/verify` and
//! `POST /v1/verify/batch` (`keysmith::serve::request`), as arbitrary bytes.
//! The first byte picks the endpoint; the rest is the body.
//!
//! Invariants checked, beyond "no panic":
//! - a refusal is a 400 with a message, and every body that is not a JSON
//!   object of the known fields is refused;
//! - an accepted body agrees with a plain JSON reading of it: the key (or
//!   keys, at most 10,000), the service (a valid one, or absent/null) and
//!   the scopes (each of the scope shape, at most 64);
//! - what was accepted, written back as JSON, reads back to the same request.

#![no_main]

use keysmith::input;
use keysmith::serve::request::{self, BATCH_KEYS_LIMIT, BadRequest, SCOPE_LIMIT};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// The fields a plain reading finds: `None` when the body is not an
/// object of only these names.
fn plain(body: &[u8], key_field: &str) -> Option<serde_json::Map<String, Value>> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    map.keys()
        .all(|k| k == key_field || k == "service" || k == "scopes")
        .then_some(map)
}

fn check_required(
    map: &serde_json::Map<String, Value>,
    service: &Option<String>,
    scopes: &[String],
) {
    match map.get("service") {
        None | Some(Value::Null) => assert_eq!(service, &None),
        Some(Value::String(s)) => {
            assert_eq!(service.as_deref(), Some(s.as_str()));
            assert_eq!(input::service(s).ok().as_ref(), Some(s));
        }
        Some(other) => panic!("accepted a service of {other}"),
    }
    let listed: Vec<String> = match map.get("scopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().expect("a scope is a string").to_owned())
            .collect(),
        Some(other) => panic!("accepted scopes of {other}"),
    };
    assert_eq!(listed, scopes);
    assert!(scopes.len() <= SCOPE_LIMIT);
    assert!(scopes.iter().all(|s| request::is_scope(s)));
}

fn refused(e: &BadRequest) {
    assert_eq!(BadRequest::STATUS, 400);
    assert!(!e.message.is_empty());
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    if which % 2 == 0 {
        match request::verify(body) {
            Err(e) => refused(&e),
            Ok(r) => {
                let map = plain(body, "key")
                    .expect("accepted a body that is not an object of known fields");
                assert_eq!(map.get("key").and_then(Value::as_str), Some(r.key.as_str()));
                check_required(&map, &r.required.service, &r.required.scopes);
                let again = json!({"key": r.key, "service": r.required.service, "scopes": r.required.scopes});
                let back = request::verify(again.to_string().as_bytes()).expect("reads back");
                assert_eq!(back, r);
            }
        }
    } else {
        match request::batch(body) {
            Err(e) => refused(&e),
            Ok(r) => {
                let map = plain(body, "keys")
                    .expect("accepted a body that is not an object of known fields");
                let keys: Vec<&str> = map["keys"]
                    .as_array()
                    .expect("keys is an array")
                    .iter()
                    .map(|k| k.as_str().expect("a key is a string"))
                    .collect();
                assert_eq!(keys, r.keys);
                assert!(r.keys.len() <= BATCH_KEYS_LIMIT);
                check_required(&map, &r.required.service, &r.required.scopes);
                let again = json!({"keys": r.keys, "service": r.required.service, "scopes": r.required.scopes});
                let back = request::batch(again.to_string().as_bytes()).expect("reads back");
                assert_eq!(back, r);
            }
        }
    }
});

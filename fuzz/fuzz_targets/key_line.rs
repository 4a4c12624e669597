//! `keysmith::input::key_line`: one line of `create --from`, as arbitrary bytes.
//!
//! Invariants checked, beyond "no panic":
//! - a blank line (UTF-8, only whitespace) gives `None`, and nothing else does;
//! - every refusal is a usage error (exit 2);
//! - a spec's fields satisfy the input rules: checking each again through
//!   `keysmith::input` gives the same value, and they agree with a plain JSON
//!   reading of the line (name and description trimmed, default prefix only
//!   when none is given);
//! - its prefix mints keys that parse, and its `expires_in` is positive and bounded;
//! - the spec written back as a line reads back to the same spec.

#![no_main]

use keysmith::Error;
use keysmith::input::{self, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, Prefix, key_line};
use keysmith::model::NewKey;
use keysmith::key_format::{self, ID_LEN, SECRET_LEN};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const DEFAULT_PREFIX: &str = "ks";
const LIMIT: i64 = 1_000 * 366 * 86_400;

fn prefix(raw: &str) -> Prefix {
    raw.parse().expect("a valid prefix")
}

fn fields(k: &NewKey) -> (&str, Option<&str>, Option<&str>, &str, Option<i64>) {
    (
        &k.name,
        k.description.as_deref(),
        k.service.as_deref(),
        &k.prefix,
        k.expires_in,
    )
}

fn check_text(field: &str, value: &str, max_chars: usize) {
    assert!(!value.is_empty(), "empty {field}");
    assert_eq!(value, value.trim(), "{field} {value:?} is not trimmed");
    assert!(value.chars().count() <= max_chars, "{field} too long");
    assert!(
        !value.chars().any(char::is_control),
        "{field} {value:?} has a control character"
    );
}

fn check_spec(raw: &[u8], spec: &NewKey) {
    check_text("name", &spec.name, MAX_NAME_CHARS);
    assert_eq!(input::name(&spec.name).unwrap(), spec.name);
    if let Some(d) = &spec.description {
        check_text("description", d, MAX_DESCRIPTION_CHARS);
        assert_eq!(input::description(d).unwrap().as_deref(), Some(d.as_str()));
    }
    if let Some(s) = &spec.service {
        assert_eq!(&input::service(s).unwrap(), s);
    }
    assert_eq!(spec.prefix.parse::<Prefix>().unwrap().as_str(), spec.prefix);
    if let Some(e) = spec.expires_in {
        assert!(0 < e && e <= LIMIT, "expires_in {e}");
    }

    // The same line read as plain JSON.
    let line: Value = serde_json::from_slice(raw).expect("an accepted line is JSON");
    let object = line.as_object().expect("an accepted line is an object");
    let text = |field: &str| object.get(field).and_then(Value::as_str);
    assert_eq!(spec.name, text("name").expect("name is a string").trim());
    assert_eq!(
        spec.description.as_deref(),
        text("description").map(str::trim).filter(|d| !d.is_empty())
    );
    assert_eq!(spec.service.as_deref(), text("service"));
    assert_eq!(spec.prefix, text("prefix").unwrap_or(DEFAULT_PREFIX));

    // The prefix mints keys that parse back with that prefix.
    let minted = key_format::assemble(&spec.prefix, "0".repeat(ID_LEN), &[b'Z'; SECRET_LEN]);
    let parsed = key_format::parse(minted.secret.expose()).expect("a minted key parses");
    assert_eq!(parsed.prefix, spec.prefix);

    // Written back as a line, with every field explicit, it reads back the same.
    let mut again = Map::new();
    again.insert("name".into(), json!(spec.name));
    if let Some(d) = &spec.description {
        again.insert("description".into(), json!(d));
    }
    if let Some(s) = &spec.service {
        again.insert("service".into(), json!(s));
    }
    again.insert("prefix".into(), json!(spec.prefix));
    if let Some(e) = spec.expires_in {
        again.insert("expires_in".into(), json!(format!("{e}s")));
    }
    let written = serde_json::to_vec(&Value::Object(again)).unwrap();
    let reread = key_line(&written, &prefix("other"))
        .expect("a written-back spec is accepted")
        .expect("a written-back spec is not blank");
    assert_eq!(fields(&reread), fields(spec));
}

fuzz_target!(|data: &[u8]| {
    let blank = std::str::from_utf8(data).is_ok_and(|t| t.trim().is_empty());
    match key_line(data, &prefix(DEFAULT_PREFIX)) {
        Ok(None) => assert!(blank, "a non-blank line gave no spec"),
        Ok(Some(spec)) => {
            assert!(!blank);
            check_spec(data, &spec);
        }
        Err(Error::Usage(_)) => assert!(!blank, "a blank line was refused"),
        Err(e) => panic!("not a usage error: {e:?}"),
    }
});

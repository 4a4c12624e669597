//! `keysmith::key_format::parse` and `keysmith::redact::redact` on arbitrary text.
//!
//! Invariants checked, beyond "no panic":
//! - `parse` agrees with an independent reading of the key format (docs/src/key-format.md)
//!   (`<prefix>_<id>_<secret><check>`), in both directions;
//! - a key that parses round-trips: its prefix and id are the substrings of the
//!   input, `checksum` of the body is the check part, the hash is the input's,
//!   and assembling the parts again gives back the input byte for byte;
//! - `redact` masks a valid key to `<prefix>_<id>_********`, leaves text with no
//!   `_<id>_` (after percent-decoding) as it is, never leaves `_<id>_` and 16
//!   base62 characters behind, and is idempotent. (fuzz_targets/redact.rs
//!   checks that no secret survives it.)

#![no_main]

use keysmith::key_format::{
    self, BASE62, CHECK_LEN, ID_LEN, KeyHash, MAX_PREFIX_LEN, SECRET_LEN, checksum,
};
use keysmith::redact::{MIN_MASKED_RUN, redact};
use libfuzzer_sys::fuzz_target;

fn alnum(s: &str) -> bool {
    s.bytes().all(|b| BASE62.contains(&b))
}

/// The key format (docs/src/key-format.md) read again, by splitting on `_` rather than by offsets.
fn reference_is_key(s: &str) -> bool {
    let parts: Vec<&str> = s.split('_').collect();
    let [prefix, id, tail] = parts[..] else {
        return false;
    };
    let prefix_ok = (1..=MAX_PREFIX_LEN).contains(&prefix.len())
        && prefix.as_bytes()[0].is_ascii_lowercase()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let shape_ok = prefix_ok
        && id.len() == ID_LEN
        && alnum(id)
        && tail.len() == SECRET_LEN + CHECK_LEN
        && alnum(tail);
    shape_ok && checksum(&s[..s.len() - CHECK_LEN]) == tail.as_bytes()[SECRET_LEN..]
}

fn check_parse(s: &str) {
    let parsed = key_format::parse(s);
    assert_eq!(
        parsed.is_some(),
        reference_is_key(s),
        "parse and the docs' reading disagree on {s:?}"
    );
    let Some(p) = parsed else { return };

    assert!(key_format::is_valid_prefix(&p.prefix), "{p:?}");
    assert!(key_format::is_id_shaped(&p.id), "{p:?}");
    let head = format!("{}_{}_", p.prefix, p.id);
    let tail = s
        .strip_prefix(&head)
        .unwrap_or_else(|| panic!("{s:?} does not start with {head:?}"));
    assert_eq!(tail.len(), SECRET_LEN + CHECK_LEN);
    let (secret, check) = tail.split_at(SECRET_LEN);
    assert_eq!(&checksum(&s[..s.len() - CHECK_LEN]), check.as_bytes());
    assert!(p.hash == KeyHash::of(s), "hash is not the input's");

    let secret: [u8; SECRET_LEN] = secret.as_bytes().try_into().unwrap();
    let again = key_format::assemble(&p.prefix, p.id.clone(), &secret);
    assert_eq!(again.secret.expose(), s, "assembling the parts again");
    assert!(again.hash.matches(&p.hash));

    assert_eq!(redact(s), p.masked(), "a valid key is masked");
}

/// Whether `s` holds `_`, 12 base62 characters, `_` and 16 more, read
/// directly (no percent-decoding): what `redact` must never leave behind.
fn has_secret_run(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        b.len() >= i + 14 + MIN_MASKED_RUN
            && b[i] == b'_'
            && alnum_bytes(&b[i + 1..i + 1 + ID_LEN])
            && b[i + 1 + ID_LEN] == b'_'
            && alnum_bytes(&b[i + 2 + ID_LEN..i + 2 + ID_LEN + MIN_MASKED_RUN])
    })
}

/// Whether `s` holds `_`, 12 base62 characters and `_`: the only place
/// `redact` masks anything (a short run after it, too, when a key prefix
/// starts the word before it).
fn has_id_between_underscores(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        b.len() > i + 1 + ID_LEN
            && b[i] == b'_'
            && alnum_bytes(&b[i + 1..i + 1 + ID_LEN])
            && b[i + 1 + ID_LEN] == b'_'
    })
}

fn alnum_bytes(b: &[u8]) -> bool {
    b.iter().all(|c| BASE62.contains(c))
}

fn check_redact(s: &str) {
    let shown = redact(s);
    assert!(
        !has_secret_run(&shown),
        "{shown:?} still holds a secret run"
    );
    if !has_id_between_underscores(s) && !s.contains('%') {
        assert_eq!(shown, s, "nothing to mask in {s:?}");
    }
    assert_eq!(redact(&shown), shown, "not idempotent");
}

fuzz_target!(|data: &[u8]| {
    // Lossy, so that every input is used and invalid bytes become multi-byte text.
    let s = String::from_utf8_lossy(data);
    check_parse(&s);
    check_redact(&s);
});

//! `keysmith::redact::redact`, and `keysmith::redact::Untrusted` (how text from
//! outside is shown on a terminal), on arbitrary text with real keys in it.
//!
//! The input is read as: one byte for the number of keys (1 to 4), three bytes
//! per key (where it goes in the text, how it is written, its prefix), then the
//! text (lossy UTF-8). Each key's id and secret are drawn from the SHA-256 of
//! the whole input, so the fuzzer cannot copy a secret into the text around it:
//! whatever it finds there, it found by gluing characters to real keys.
//!
//! Keys are inserted at character boundaries of the text, glued to whatever
//! stands there, written as they are, with `_` percent-encoded (once or twice),
//! with one character escaped (`%41`), or escaped whole.
//!
//! Invariants checked, beyond "no panic":
//! - no key's secret, nor any 16-character window of it, survives `redact` or
//!   `Untrusted` (masking, then escaping);
//! - `Untrusted` leaves no control or format character unescaped;
//! - a key written as it is shows as `<id>_********`;
//! - `redact` is idempotent, and returns text
//!   without `_` or `%` unchanged.

#![no_main]

use keysmith::key_format::{self, BASE62, CHECK_LEN, ID_LEN, KeyHash, SECRET_LEN};
use keysmith::redact::{Untrusted, redact};
use libfuzzer_sys::fuzz_target;

const PREFIXES: [&str; 6] = ["ks", "acme", "a", "x9", "abcdefghijklmnop", "zz0"];

/// Base62 characters drawn from the SHA-256 of `seed`.
fn base62<const N: usize>(seed: &str) -> [u8; N] {
    let hash = KeyHash::of(seed).0;
    std::array::from_fn(|i| BASE62[usize::from(hash[i % 32] ^ (i / 32) as u8) % 62])
}

/// Controls, separators and the common format characters (a sample of what
/// `Untrusted` escapes; src/redact.rs checks the whole set against Unicode).
fn obeyed(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{61c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2028}'..='\u{2029}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

fn encoded(key: &str, how: u8, at: usize) -> String {
    let escape = |b: u8| format!("%{b:02X}");
    match how % 5 {
        0 => key.to_owned(),
        1 => key.replace('_', "%5f"),
        2 => key.replace('_', "%255F"),
        3 => {
            let at = at % key.len();
            format!(
                "{}{}{}",
                &key[..at],
                escape(key.as_bytes()[at]),
                &key[at + 1..]
            )
        }
        _ => key.bytes().map(escape).collect(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 4) + 1;
    if rest.len() < 3 * count {
        return;
    }
    let (specs, text) = rest.split_at(3 * count);
    let mut text = String::from_utf8_lossy(text).into_owned();
    let seed = format!("{data:?}");

    let mut placed = Vec::new();
    for (i, spec) in specs.chunks(3).enumerate() {
        let id: [u8; ID_LEN] = base62(&format!("id {i} {seed}"));
        let secret: [u8; SECRET_LEN] = base62(&format!("secret {i} {seed}"));
        let prefix = PREFIXES[usize::from(spec[2] % 6)];
        let minted = key_format::assemble(prefix, String::from_utf8(id.to_vec()).unwrap(), &secret);
        let mut at = usize::from(spec[0]) % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        placed.push((at, minted, spec[1]));
    }
    // Inserted from the last place to the first, so no key lands inside another.
    placed.sort_by_key(|(at, _, _)| std::cmp::Reverse(*at));
    for (at, minted, how) in &placed {
        let written = encoded(minted.secret.expose(), *how, usize::from(*how / 5));
        text.insert_str(*at, &written);
    }

    let shown = redact(&text);
    let on_screen = Untrusted(&text).to_string();
    for (_, minted, how) in &placed {
        let full = minted.secret.expose();
        let secret = &full[full.len() - CHECK_LEN - SECRET_LEN..full.len() - CHECK_LEN];
        for start in 0..=SECRET_LEN - 16 {
            let window = &secret[start..start + 16];
            assert!(!shown.contains(window), "{window} survives in {shown:?}");
            assert!(
                !on_screen.contains(window),
                "{window} survives in {on_screen:?}"
            );
        }
        if how % 5 == 0 {
            // Shown masked; or, glued after text that looks like a truncated
            // key (`ks_<12>_`), its id taken for that key's secret and masked too.
            let masked = format!("{}_********", minted.id);
            assert!(
                shown.contains(&masked) || !shown.contains(&minted.id),
                "{masked} missing from {shown:?}"
            );
        }
    }
    assert!(
        !on_screen.chars().any(obeyed),
        "{on_screen:?} holds a character a terminal obeys or hides"
    );
    assert_eq!(redact(&shown), shown, "not idempotent on {text:?}");
    if !text.contains(['_', '%']) {
        assert_eq!(shown, text.as_str());
    }
});

use proptest::prelude::*;

use super::*;
use crate::key_format::{CHECK_LEN, SECRET_LEN, mint};

const DOCS_EXAMPLE: &str = "ks_4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhd6";

fn prefix_strategy() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,15}"
}

fn shown(text: &str) -> String {
    Untrusted(text).to_string()
}

#[test]
fn escapes_what_a_terminal_would_obey() {
    assert_eq!(shown("a\u{1b}[31mb"), "a\\u{1b}[31mb");
    assert_eq!(shown("x\ny\tz\r"), "x\\ny\\tz\\r");
    assert_eq!(shown("é \u{202E}"), "é \\u{202e}");
    assert_eq!(shown("\u{9b}2J\u{7f}"), "\\u{9b}2J\\u{7f}");
    for (c, escaped) in [
        ('\u{ad}', "\\u{ad}"),
        ('\u{61c}', "\\u{61c}"),
        ('\u{180e}', "\\u{180e}"),
        ('\u{200b}', "\\u{200b}"),
        ('\u{2028}', "\\u{2028}"),
        ('\u{2029}', "\\u{2029}"),
        ('\u{2060}', "\\u{2060}"),
        ('\u{2066}', "\\u{2066}"),
        ('\u{feff}', "\\u{feff}"),
        ('\u{fffb}', "\\u{fffb}"),
        ('\u{e0001}', "\\u{e0001}"),
        ('\u{e007f}', "\\u{e007f}"),
    ] {
        assert_eq!(shown(&format!("a{c}b")), format!("a{escaped}b"));
    }
    for plain in ["Data Sync", "Zürich — 東京 ✓", "", "a\\u{1b}b"] {
        assert_eq!(shown(plain), plain);
    }
    assert_eq!(format!("[{:<6}]", Untrusted("a\u{7}")), "[a\\u{7}]");
    assert_eq!(format!("[{:>8}]", Untrusted("a\u{7}")), "[  a\\u{7}]");
}

#[test]
fn untrusted_text_shows_keys_masked() {
    let key = crate::key_format::mint("ks");
    let text = format!("\u{1b}[2Jname {}x", key.secret.expose());
    assert_eq!(
        shown(&text),
        format!("\\u{{1b}}[2Jname ks_{}_********", key.id)
    );
}

#[test]
fn every_format_character_is_escaped() {
    // The regex crate's Unicode tables are the reference for category Cf.
    let every_char: String = (0..=0x10FFFF).filter_map(char::from_u32).collect();
    let categories = regex::Regex::new(r"[\p{Cf}\p{Cc}\p{Zl}\p{Zp}]").unwrap();
    let mut count = 0;
    for c in categories.find_iter(&every_char) {
        let c = c.as_str().chars().next().unwrap();
        assert!(super::is_hidden(c), "U+{:04X} is shown raw", c as u32);
        count += 1;
    }
    assert!(count > 200, "{count}");
    // Nothing else is escaped but unassigned code points among them.
    let unassigned = regex::Regex::new(r"\p{Cn}").unwrap();
    for c in every_char.chars().filter(|&c| super::is_hidden(c)) {
        assert!(
            categories.is_match(c.encode_utf8(&mut [0; 4]))
                || unassigned.is_match(c.encode_utf8(&mut [0; 4])),
            "U+{:04X} is escaped but neither a control nor a format character",
            c as u32
        );
    }
}

#[test]
fn passwords_are_masked_wherever_they_are() {
    for (url, want) in [
        (
            "postgres://bob:s3cret@db:5432/keys",
            "postgres://bob:***@db:5432/keys",
        ),
        (
            "postgresql://bob:p%40ss@db/keys?sslmode=require",
            "postgresql://bob:***@db/keys?sslmode=require",
        ),
        ("postgres://bob@db/keys", "postgres://bob@db/keys"),
        (
            "postgres://db/keys?user=bob&password=hunter2",
            "postgres://db/keys?user=bob&password=***",
        ),
        ("postgres://:pw@db", "postgres://:***@db"),
        // Raw characters a URL should encode, as generated passwords have.
        (
            "postgres://bob:a/b+c==@db/keys",
            "postgres://bob:***@db/keys",
        ),
        ("postgres://bob:a?b#c@db/keys", "postgres://bob:***@db/keys"),
        ("postgres://bob:p@ss@db/keys", "postgres://bob:***@db/keys"),
        ("postgres://bob:p ss@db/keys", "postgres://bob:***@db/keys"),
        (
            "postgres://alice@corp:pw@db/keys",
            "postgres://alice@corp:***@db/keys",
        ),
        (
            "postgres://db/keys?pass%77ord=hunter2",
            "postgres://db/keys?pass%77ord=***",
        ),
        (
            "postgres://bob@[::1]:5432/keys",
            "postgres://bob@[::1]:5432/keys",
        ),
        ("postgres://db:5432/keys", "postgres://db:5432/keys"),
        ("postgres://bob:***@db/keys", "postgres://bob:***@db/keys"),
    ] {
        assert_eq!(mask_password(url), want, "{url}");
    }
}

#[test]
fn passwords_are_masked_in_any_text() {
    for (text, want) in [
        (
            "error: unexpected argument 'postgres://bob:s3cret@db/keys' found\n",
            "error: unexpected argument 'postgres://bob:***@db/keys' found\n",
        ),
        (
            "a POSTGRESQL://bob:pa ss@db/k and postgres://eve:x/y@h/d\nnext postgres://h/d\n",
            "a POSTGRESQL://bob:***@db/k and postgres://eve:***@h/d\nnext postgres://h/d\n",
        ),
        (
            "error: the server at postgres://u:***@h/d refused user bob@corp: no\n",
            "error: the server at postgres://u:***@h/d refused user bob@corp: no\n",
        ),
        ("no url: bob:pw@db", "no url: bob:pw@db"),
        ("postgres:// postgresql", "postgres:// postgresql"),
    ] {
        assert_eq!(mask_passwords_in(text), want, "{text}");
    }
}

#[test]
fn redaction_masks_every_key_however_it_is_glued() {
    let minted = mint("ks");
    let key = minted.secret.expose();
    let masked = format!("ks_{}_********", minted.id);
    for (text, want) in [
        (key.to_owned(), masked.clone()),
        (format!("X{key}x"), format!("X{masked}")),
        (format!("Bearer:{key}0"), format!("Bearer:{masked}")),
        (
            format!("https://x/?k={key}&v=1"),
            format!("https://x/?k={masked}&v=1"),
        ),
        (format!("ABC{key}"), format!("ABC{masked}")),
        (format!("dir/é{key}.txt"), format!("dir/é{masked}.txt")),
        (
            format!("{key}{key}"),
            format!("{masked}_{}_********", minted.id),
        ),
        (format!("{}{}", &key[..16], "a".repeat(200)), masked.clone()),
        (
            key.replace('_', "%5F"),
            format!("ks%5F{}_********", minted.id),
        ),
        (format!("{}%41{}", &key[..30], &key[30..]), masked.clone()),
        (format!("{}%255f{}", &key[..15], &key[16..]), masked.clone()),
    ] {
        assert_eq!(redact(&text), want, "{text}");
    }
    assert_eq!(redact(DOCS_EXAMPLE), "ks_4fQ8xW2mLp0Z_********");
}

#[test]
fn redaction_keeps_other_text() {
    for text in [
        "Data Sync",
        "",
        "ks_4fQ8xW2mLp0Z_********",
        "ks_4fQ8xW2mLp0Z",
        "my_conversation_log.txt",
        // Glued to a word before it, a short run is no truncated key.
        "Xks_4fQ8xW2mLp0Z_Yb7d",
        "100%25 of %5F and %zz and %",
        "a_ෘ\u{11d90}Σ0𛱰",
        "ks_aaaaaaaaaaa\u{e9}_xxxxxxxxxxxxxxxxxxxx",
    ] {
        assert_eq!(redact(text), text);
    }
    assert_eq!(
        redact(&DOCS_EXAMPLE[..32]),
        "ks_4fQ8xW2mLp0Z_********",
        "16 characters of a secret are masked"
    );
    // A truncated key that starts its word (a cut-off selector) is
    // masked however little of its secret it holds.
    for end in [17, 20, 31] {
        assert_eq!(redact(&DOCS_EXAMPLE[..end]), "ks_4fQ8xW2mLp0Z_********");
        assert_eq!(
            redact(&format!("no key matches '{}'", &DOCS_EXAMPLE[..end])),
            "no key matches 'ks_4fQ8xW2mLp0Z_********'"
        );
    }
}

/// The secret of a key, and each 16-character window of it.
fn secret_windows(key: &str) -> Vec<&str> {
    let secret = &key[key.len() - CHECK_LEN - SECRET_LEN..key.len() - CHECK_LEN];
    (0..=SECRET_LEN - 16).map(|i| &secret[i..i + 16]).collect()
}

/// A key written as it may appear in text: as is, with percent-encoded
/// underscores (once or twice), split by an escaped character, or all escaped.
fn encoded(key: &str, how: u8, at: usize) -> String {
    let escape = |b: u8| format!("%{b:02X}");
    match how {
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

fn glue() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9A-Za-z]{0,20}",
        "[0-9A-Za-z_%./:?=&-]{0,20}",
        "\\PC{0,8}",
        ".{0,8}",
    ]
}

proptest! {
    #[test]
    fn no_secret_survives_redaction(
        keys in proptest::collection::vec((glue(), prefix_strategy(), 0u8..5, any::<usize>()), 1..5),
        after in glue(),
    ) {
        let mut text = String::new();
        let mut minted = Vec::new();
        for (before, prefix, how, at) in keys {
            let key = mint(&prefix);
            text.push_str(&before);
            // Glued to a word before it, a key reads as another: "a_aa"
            // then "a0a00aa0aa_<id>_<secret>" holds the id-shaped
            // "aaa0a00aa0aa", and both runs are masked.
            let apart = !text.ends_with(|c: char| c.is_alphanumeric() || c == '_');
            text.push_str(&encoded(key.secret.expose(), how, at));
            minted.push((key, how, apart));
        }
        text.push_str(&after);
        let shown = redact(&text);
        for (key, how, apart) in &minted {
            for window in secret_windows(key.secret.expose()) {
                prop_assert!(!shown.contains(window), "{} in {}", window, shown);
            }
            if *how == 0 && *apart {
                prop_assert!(shown.contains(&format!("{}_********", key.id)), "{}", shown);
            }
        }
        prop_assert_eq!(redact(&shown), shown.clone());
    }
}

proptest! {
    #[test]
    fn redaction_never_panics(s in "\\PC{0,80}") {
        let _ = redact(&s);
    }
}

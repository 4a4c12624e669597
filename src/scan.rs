//! Finding keysmith keys in text (docs/src/commands/scan.md), and describing their shape
//! to other secret scanners. Pure functions over bytes, no I/O: files need not
//! be UTF-8, and a library caller can scan any buffer the way the CLI does.
//!
//! A regex finds key-shaped candidates; the checksum of docs/src/key-format.md decides which
//! are keys, so a random string of the right shape is almost never reported.
//! Nothing of a found key is kept but its public parts and its hash.

use std::io::{self, Read};
use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::key_format::{self, CHECK_LEN, ID_LEN, MAX_PREFIX_LEN, ParsedKey, SECRET_LEN};

/// From the `_` that ends the prefix to the key's last character.
const BODY_LEN: usize = 1 + ID_LEN + 1 + SECRET_LEN + CHECK_LEN;

/// The longest key: a 16-character prefix and its body (68 bytes).
pub const MAX_KEY_LEN: usize = MAX_PREFIX_LEN + BODY_LEN;

/// How much of a stream `KeyReader` scans at a time. Memory stays bounded
/// whatever the input, a single line of any length included.
pub const WINDOW: usize = 1 << 20;

/// A key-shaped candidate: a prefix, `_`, the id, `_`, the secret and check.
/// Only the end of a match is trusted: the prefix is worked out again from the
/// text around it, because a match may start inside a longer lowercase word.
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "[a-z][a-z0-9]{{0,{}}}_[0-9A-Za-z]{{{ID_LEN}}}_[0-9A-Za-z]{{{}}}",
        MAX_PREFIX_LEN - 1,
        SECRET_LEN + CHECK_LEN
    ))
    .expect("the candidate pattern is a valid regex")
});

/// One key found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// 1-based line number of the key's first character.
    pub line: usize,
    /// Byte offset of the key's first character.
    pub offset: usize,
    pub key: ParsedKey,
}

impl Found {
    /// Byte offset just past the key's last character.
    pub fn end(&self) -> usize {
        self.offset + self.key.prefix.len() + BODY_LEN
    }
}

/// Every checksum-valid key in `text`, in order of position.
///
/// A key may be glued to the text before it (`TOKEN=ks_...`, `xks_...`): when
/// lowercase letters or digits precede the prefix, each suffix of that run
/// that could be a prefix is tried, longest first, and the first whose
/// checksum holds wins. A key directly followed by another base62 character
/// is part of some longer token and is not reported.
pub fn find_keys(text: &[u8]) -> Vec<Found> {
    let mut found = Vec::new();
    let mut lines = LineCounter::default();
    let mut from = 0;
    while let Some(m) = CANDIDATE.find_at(text, from) {
        let separator = m.end() - BODY_LEN;
        // The id and tail hold no `_`, so no other key can have its first
        // `_` before this match ends; the next key's prefix, though, may
        // begin inside this tail.
        from = separator + 1 + ID_LEN + 1;
        if text.get(m.end()).is_some_and(u8::is_ascii_alphanumeric) {
            continue;
        }
        if let Some((offset, key)) = key_ending_at(text, separator, m.end()) {
            found.push(Found {
                line: lines.line_at(text, offset),
                offset,
                key,
            });
        }
    }
    found
}

/// Every checksum-valid key in a stream, found window by window: the same
/// keys, lines and offsets as `find_keys` over the whole input, in memory of
/// `WINDOW` bytes plus one key's length, however long the input or its lines.
///
/// Each window is scanned with the last bytes of the one before it (at most
/// `MAX_KEY_LEN`, and none from before the last newline, which no key spans),
/// so a key across a boundary is whole in the next window. A key is reported
/// by the window in which it ends with a byte after it to see (to tell it from
/// a longer token), so none is reported twice: one that ends exactly at a
/// window's end waits for the next.
pub struct KeyReader<R> {
    input: R,
    window: usize,
    buf: Vec<u8>,
    /// Bytes at the start of `buf` carried over from the window before.
    carried: usize,
    /// Offset in the stream of `buf[0]`, and its line number.
    offset: usize,
    line: usize,
    done: bool,
    /// A read error, reported after the keys read before it.
    failure: Option<io::Error>,
}

impl<R: Read> KeyReader<R> {
    pub fn new(input: R) -> Self {
        Self::with_window(input, WINDOW)
    }

    /// A reader that takes `window` new bytes at a time (at least 1).
    pub fn with_window(input: R, window: usize) -> Self {
        let window = window.max(1);
        KeyReader {
            input,
            window,
            buf: vec![0; MAX_KEY_LEN + window],
            carried: 0,
            offset: 0,
            line: 1,
            done: false,
            failure: None,
        }
    }

    /// Reads up to `window` new bytes after the carried ones: how many, and
    /// whether the input ended (or failed, which ends it too).
    fn fill(&mut self) -> (usize, bool) {
        let mut read = 0;
        while read < self.window {
            let at = self.carried + read;
            match self.input.read(&mut self.buf[at..at + self.window - read]) {
                Ok(0) => return (read, true),
                Ok(n) => read += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.failure = Some(e);
                    return (read, true);
                }
            }
        }
        (read, false)
    }
}

impl<R: Read> Iterator for KeyReader<R> {
    /// The keys that end in the next window; a read error comes after the
    /// keys read before it, and ends the stream.
    type Item = io::Result<Vec<Found>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failure.take() {
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        let (read, end) = self.fill();
        self.done = end;
        let len = self.carried + read;
        let text = &self.buf[..len];
        let keys = find_keys(text)
            .into_iter()
            // Those that end among the carried bytes were reported before;
            // one that ends at the window's end may go on in the next.
            .filter(|f| f.end() >= self.carried && (f.end() < len || end))
            .map(|f| Found {
                line: self.line + f.line - 1,
                offset: self.offset + f.offset,
                key: f.key,
            })
            .collect();
        if !end {
            let line_start = text
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |at| at + 1);
            let keep = (len - line_start).min(MAX_KEY_LEN);
            let consumed = len - keep;
            self.line += text[..consumed].iter().filter(|&&b| b == b'\n').count();
            self.offset += consumed;
            self.buf.copy_within(consumed..len, 0);
            self.carried = keep;
        }
        Some(Ok(keys))
    }
}

/// The key whose prefix ends at `separator` and which ends at `end`, trying
/// each possible start of its prefix, longest first.
fn key_ending_at(text: &[u8], separator: usize, end: usize) -> Option<(usize, ParsedKey)> {
    let run = text[..separator]
        .iter()
        .rev()
        .take(MAX_PREFIX_LEN)
        .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        .count();
    (1..=run).rev().find_map(|len| {
        let start = separator - len;
        // Every byte of a candidate is ASCII, so this never fails.
        let candidate = std::str::from_utf8(&text[start..end]).ok()?;
        key_format::parse(candidate).map(|key| (start, key))
    })
}

/// Turns increasing byte offsets into line numbers in one pass over the text.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: usize,
}

impl LineCounter {
    fn line_at(&mut self, text: &[u8], offset: usize) -> usize {
        self.newlines += text[self.offset..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.offset = offset;
        self.newlines + 1
    }
}

/// A pattern for other scanners (gitleaks, trufflehog: Go's RE2 syntax, which
/// this also is) that matches keys with any of `prefixes`. It cannot check the
/// checksum, so it is anchored on the prefixes in use to stay precise.
pub fn rule_pattern(prefixes: &[String]) -> String {
    format!(
        r"\b(?:{})_[0-9A-Za-z]{{{ID_LEN}}}_[0-9A-Za-z]{{{}}}\b",
        prefixes.join("|"),
        SECRET_LEN + CHECK_LEN
    )
}

/// The keywords a scanner looks for before running the pattern: `<prefix>_`.
pub fn rule_keywords(prefixes: &[String]) -> Vec<String> {
    prefixes.iter().map(|p| format!("{p}_")).collect()
}

/// A gitleaks rule (TOML) for keys with these prefixes.
pub fn gitleaks_rule(prefixes: &[String]) -> String {
    let keywords: Vec<String> = rule_keywords(prefixes)
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect();
    [
        "# keysmith API keys; made by `keysmith scan --rules gitleaks`.",
        "# Add to .gitleaks.toml (with `[extend] useDefault = true` to keep the default rules).",
        "[[rules]]",
        "id = \"keysmith-api-key\"",
        "description = \"keysmith API key\"",
        &format!("regex = '''{}'''", rule_pattern(prefixes)),
        &format!("keywords = [{}]", keywords.join(", ")),
    ]
    .join("\n")
}

/// A trufflehog custom detector (YAML) for keys with these prefixes.
pub fn trufflehog_detector(prefixes: &[String]) -> String {
    let mut lines = vec![
        "# keysmith API keys; made by `keysmith scan --rules trufflehog`.".to_owned(),
        "# Use with: trufflehog filesystem --config=THIS_FILE PATH".to_owned(),
        "detectors:".to_owned(),
        "  - name: keysmith-api-key".to_owned(),
        "    keywords:".to_owned(),
    ];
    lines.extend(
        rule_keywords(prefixes)
            .iter()
            .map(|k| format!("      - {k}")),
    );
    lines.push("    regex:".to_owned());
    lines.push(format!(
        "      keysmith-api-key: '{}'",
        rule_pattern(prefixes)
    ));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DOCS_EXAMPLE: &str = "ks_4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhd6";

    fn ids(text: &str) -> Vec<(usize, String)> {
        find_keys(text.as_bytes())
            .into_iter()
            .map(|f| (f.line, f.key.id))
            .collect()
    }

    fn minted(prefix: &str) -> (String, String) {
        let m = key_format::mint(prefix);
        (m.secret.expose().to_owned(), m.id)
    }

    #[test]
    fn finds_a_key_alone_and_in_text() {
        let (key, id) = minted("acme");
        for text in [
            key.clone(),
            format!("TOKEN={key};"),
            format!("\"{key}\""),
            format!("x = '{key}' # live"),
            format!("https://api.example.com/?key={key}&x=1"),
        ] {
            assert_eq!(ids(&text), vec![(1, id.clone())], "{text}");
        }
    }

    #[test]
    fn reports_line_numbers_and_offsets() {
        let (a, a_id) = minted("ks");
        let (b, b_id) = minted("ks");
        let text = format!("first\n\n  {a}\nnothing\r\nx {b} {a}\n");
        assert_eq!(
            ids(&text),
            vec![(3, a_id.clone()), (5, b_id), (5, a_id.clone())]
        );
        let first = &find_keys(text.as_bytes())[0];
        assert_eq!(first.offset, text.find(&a).unwrap());
        assert_eq!(first.key.masked(), format!("ks_{a_id}_********"));
    }

    #[test]
    fn skips_checksum_failures_and_near_misses() {
        let mut typo = DOCS_EXAMPLE.as_bytes().to_vec();
        typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap();
        for text in [
            typo.as_str(),
            &DOCS_EXAMPLE[..DOCS_EXAMPLE.len() - 1],
            &DOCS_EXAMPLE[1..],
            "ks_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "no keys here at all",
            "",
        ] {
            assert!(ids(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn a_key_followed_by_base62_is_part_of_a_longer_token() {
        assert!(ids(&format!("{DOCS_EXAMPLE}x")).is_empty());
        assert!(ids(&format!("{DOCS_EXAMPLE}0")).is_empty());
        assert_eq!(ids(&format!("{DOCS_EXAMPLE}_x")).len(), 1);
        assert_eq!(ids(&format!("{DOCS_EXAMPLE}-x")).len(), 1);
    }

    #[test]
    fn a_prefix_glued_to_a_lowercase_word_is_found() {
        let (key, id) = minted("ks");
        for glue in [
            "x",
            "abc",
            "9",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "Zz",
        ] {
            assert_eq!(
                ids(&format!("{glue}{key}")),
                vec![(1, id.clone())],
                "{glue}"
            );
        }
        // A longer prefix that itself ends in a shorter valid prefix.
        let (long, long_id) = minted("acmeks");
        assert_eq!(ids(&format!("x{long}")), vec![(1, long_id)]);
        let found = &find_keys(format!("x{long}").as_bytes())[0];
        assert_eq!((found.offset, found.key.prefix.as_str()), (1, "acmeks"));
    }

    #[test]
    fn the_longest_possible_prefix_is_found() {
        let (key, id) = minted("abcdefghijklmnop");
        assert_eq!(ids(&format!("zz{key}")), vec![(1, id)]);
    }

    #[test]
    fn keys_back_to_back_and_sharing_characters() {
        let (a, a_id) = minted("ks");
        let (b, b_id) = minted("ks");
        assert_eq!(
            ids(&format!("{a} {b}")),
            vec![(1, a_id.clone()), (1, b_id.clone())]
        );
        assert_eq!(
            ids(&format!("{a}\n{b}")),
            vec![(1, a_id), (2, b_id.clone())]
        );
        // A key-shaped run whose last two characters are the next key's prefix:
        // the failed candidate must not swallow the real key after it.
        let decoy = format!("ks_AAAAAAAAAAAA_{}", "A".repeat(36));
        let (c, c_id) = minted("ab");
        assert_eq!(ids(&format!("{decoy}{c}")), vec![(1, c_id)]);
    }

    #[test]
    fn bytes_need_not_be_utf8() {
        let (key, id) = minted("ks");
        let mut text = vec![0xff, 0xfe, b'\n', 0x00];
        text.extend_from_slice(key.as_bytes());
        text.extend_from_slice(&[0xc3, 0x28, b'\n']);
        let found = find_keys(&text);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].key.id.as_str()), (2, id.as_str()));
    }

    #[test]
    fn debug_never_shows_a_found_secret() {
        let (key, _) = minted("ks");
        let shown = format!("{:?}", find_keys(key.as_bytes()));
        assert!(!shown.contains(&key[16..]), "{shown}");
    }

    #[test]
    fn rule_pattern_matches_keys_of_the_given_prefixes_only() {
        let prefixes = vec!["acme".to_owned(), "ks".to_owned()];
        let pattern = Regex::new(&rule_pattern(&prefixes)).unwrap();
        let (acme, _) = minted("acme");
        assert!(pattern.is_match(format!("key: {acme}\n").as_bytes()));
        assert!(pattern.is_match(DOCS_EXAMPLE.as_bytes()));
        assert!(!pattern.is_match(&DOCS_EXAMPLE.as_bytes()[..DOCS_EXAMPLE.len() - 1]));
        let (other, _) = minted("zz");
        assert!(!pattern.is_match(other.as_bytes()));
        assert_eq!(rule_keywords(&prefixes), ["acme_", "ks_"]);
    }

    #[test]
    fn rules_carry_the_pattern_and_keywords() {
        let prefixes = vec!["ks".to_owned()];
        let toml = gitleaks_rule(&prefixes);
        assert!(toml.contains(&format!("regex = '''{}'''", rule_pattern(&prefixes))));
        assert!(toml.contains("keywords = [\"ks_\"]"));
        let yaml = trufflehog_detector(&prefixes);
        assert!(yaml.contains(&format!("'{}'", rule_pattern(&prefixes))));
        assert!(yaml.contains("      - ks_\n"));
    }

    /// (line, offset, id) of each key `KeyReader` finds, `window` bytes at a time.
    fn streamed(text: &[u8], window: usize) -> Vec<(usize, usize, String)> {
        KeyReader::with_window(text, window)
            .flat_map(|keys| keys.expect("a slice reads without error"))
            .map(|f| (f.line, f.offset, f.key.id))
            .collect()
    }

    fn whole(text: &[u8]) -> Vec<(usize, usize, String)> {
        find_keys(text)
            .into_iter()
            .map(|f| (f.line, f.offset, f.key.id))
            .collect()
    }

    #[test]
    fn a_key_across_any_window_boundary_is_found_once() {
        let (key, _) = minted("abcdefghijklmnop");
        for window in [1, 2, 67, 68, 69, 100, 137] {
            for at in 0..2 * MAX_KEY_LEN + 3 {
                for (before, after) in [(".", "."), ("x", "\n"), ("\n", ""), ("", "x")] {
                    let text = format!("{}{before}{key}{after}", ".".repeat(at));
                    assert_eq!(
                        streamed(text.as_bytes(), window),
                        whole(text.as_bytes()),
                        "window {window}, at {at}, {before:?} {after:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_read_error_comes_after_the_keys_read_before_it() {
        struct Failing<'a>(&'a [u8]);
        impl Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Err(io::Error::other("disk on fire"));
                }
                let n = self.0.len().min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let (key, id) = minted("ks");
        let text = format!("x\n{key}");
        let mut reader = KeyReader::with_window(Failing(text.as_bytes()), 1000);
        let keys = reader.next().unwrap().unwrap();
        assert_eq!((keys[0].line, keys[0].key.id.as_str()), (2, id.as_str()));
        assert!(reader.next().unwrap().is_err());
        assert!(reader.next().is_none());
    }

    fn filler() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z0-9]{0,20}", "[ .=\n_-]{0,20}", "[a-zA-Z0-9 \n]{0,90}"]
    }

    proptest! {
        #[test]
        fn windows_find_the_keys_the_whole_text_holds(
            pieces in proptest::collection::vec(
                (filler(), "[a-z][a-z0-9]{0,15}", proptest::bool::ANY), 0..8),
            tail in filler(),
            window in 1usize..300,
        ) {
            let mut text = String::new();
            for (before, prefix, real) in pieces {
                text.push_str(&before);
                let (key, _) = minted(&prefix);
                if real {
                    text.push_str(&key);
                } else {
                    // Key-shaped, checksum wrong: found by neither.
                    text.push_str(&key[..key.len() - 1]);
                    text.push(if key.ends_with('A') { 'B' } else { 'A' });
                }
            }
            text.push_str(&tail);
            prop_assert_eq!(streamed(text.as_bytes(), window), whole(text.as_bytes()));
        }

        #[test]
        fn never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = find_keys(&bytes);
        }

        #[test]
        fn a_key_amid_other_text_is_found_once(
            prefix in "[a-z][a-z0-9]{0,15}",
            before in "[^0-9A-Za-z]{0,20}",
            glue in "[a-z0-9]{0,20}",
            after in "[^0-9A-Za-z]{0,20}",
        ) {
            let (key, id) = minted(&prefix);
            let text = format!("{before}{glue}{key}{after}");
            let found = find_keys(text.as_bytes());
            prop_assert_eq!(found.len(), 1);
            prop_assert_eq!(&found[0].key.id, &id);
            prop_assert_eq!(found[0].line, before.matches('\n').count() + 1);
            prop_assert_eq!(&text[found[0].offset..found[0].end()], key.as_str());
        }
    }
}

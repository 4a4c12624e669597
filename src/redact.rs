//! Everything that decides what of a text may be shown: keys masked
//! wherever they stand (`redact`), PostgreSQL passwords masked in URLs and
//! in any text that quotes one (`mask_password`, `mask_passwords_in`), and
//! text from outside escaped for a terminal (`Untrusted`). Every message,
//! table and report goes through here; JSON output carries the text itself.

use std::fmt;

use percent_encoding::percent_decode_str;

use crate::key_format::{ID_LEN, MASK, is_valid_prefix};

/// Text keysmith did not write itself: anything read from a store (names,
/// descriptions, services, prefixes, ids, actions, actors, details, links), a
/// scanned path, an argument quoted back. Its `Display` is how such text
/// reaches a terminal, and the only way it is shown: every key in it masked
/// (`key_format::redact`), then every character a terminal would obey or hide
/// escaped (`is_hidden`), as `\u{1b}`, `\u{202e}`, `\n`.
///
/// JSON output does not use it: JSON carries the text itself, escaped by
/// JSON's own rules.
#[derive(Clone, Copy, Debug)]
pub struct Untrusted<'a>(pub &'a str);

impl<'a> Untrusted<'a> {
    /// An optional field, shown as `none` when absent.
    pub fn or(text: Option<&'a str>, none: &'a str) -> Self {
        Untrusted(text.unwrap_or(none))
    }
}

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.width().is_some() || f.precision().is_some() {
            // `{:<20}` and the like pad or cut what is shown.
            return f.pad(&Untrusted(self.0).to_string());
        }
        let text = redact(self.0);
        if text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return f.write_str(&text);
        }
        let mut shown = 0;
        for (at, c) in text.char_indices() {
            if is_hidden(c) {
                f.write_str(&text[shown..at])?;
                write!(f, "{}", c.escape_default())?;
                shown = at + c.len_utf8();
            }
        }
        f.write_str(&text[shown..])
    }
}

/// Characters a terminal would obey, or that hide or reorder text: controls
/// (C0, DEL, C1), the line and paragraph separators, and format characters.
fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_format(c)
}

/// Unicode's format characters (general category Cf: bidi marks and
/// embeddings, zero-width characters, the BOM, the soft hyphen, tags...), and
/// the unassigned code points among them (U+2065, the rest of the tag block),
/// which a later Unicode may make format characters too.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{ad}'
        | '\u{600}'..='\u{605}'
        | '\u{61c}'
        | '\u{6dd}'
        | '\u{70f}'
        | '\u{890}'..='\u{891}'
        | '\u{8e2}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{110bd}'
        | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}'
        | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e007f}')
}

/// A base62 run at least this long after `_<id>_` is masked: a key has 38
/// characters there, and a truncated or mistyped one that still holds 16
/// characters of its secret is masked too.
pub const MIN_MASKED_RUN: usize = 16;

/// How many layers of percent-encoding `redact` looks through (`%5F`, `%255F`...).
const PERCENT_LAYERS: usize = 3;

/// `text` with every secret in it masked: the one guard for any text
/// keysmith shows but did not write itself (an argument quoted in an error,
/// a clap message, a path in a warning or in `scan`'s report, a name from the
/// store).
///
/// Wherever `_<id>_` (12 base62 characters between underscores) is followed by
/// a run of at least `MIN_MASKED_RUN` base62 characters, the run is replaced by
/// `********`, whatever stands before or after it. So every key, valid or not,
/// glued to other text or not, becomes `<prefix>_<id>_********`; a run longer
/// than a key is masked whole. A shorter run is masked when a key prefix
/// starts the word before `_<id>_` (a truncated key: `ks_4fQ8xW2mLp0Z_Yb7d`).
/// Percent-encoded characters (`ks%5F...`, a key
/// split by `%41`) are decoded first, up to three layers deep.
///
/// Linear in the length of `text`; text without `_` or `%` is returned as is.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let bytes = text.as_bytes();
    if !bytes.iter().any(|&b| b == b'_' || b == b'%') {
        return Cow::Borrowed(text);
    }
    let decoded = bytes.contains(&b'%').then(|| PercentView::new(bytes));
    let runs = secret_runs(decoded.as_ref().map_or(bytes, |d| &d.bytes));
    if runs.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut shown = 0;
    for run in runs {
        // From the `_` after the id to the run's end, in `text`. Both ends are
        // ASCII bytes (or `%XX` escapes of them), so they are char boundaries.
        let (start, end) = match &decoded {
            Some(d) => (d.origin[run.start].0, d.origin[run.end - 1].1),
            None => (run.start, run.end),
        };
        out.push_str(&text[shown..start]);
        out.push('_');
        out.push_str(MASK);
        shown = end;
    }
    out.push_str(&text[shown..]);
    Cow::Owned(out)
}

/// The ranges of `text`, each from the `_` that ends an id to the end of the
/// base62 run after it, that `redact` masks. In order, never overlapping.
fn secret_runs(text: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].iter().position(|&b| b == b'_') {
        let first = from + at;
        from = first + 1;
        let second = first + 1 + ID_LEN;
        if text.get(second) != Some(&b'_')
            || !text[first + 1..second]
                .iter()
                .all(u8::is_ascii_alphanumeric)
        {
            continue;
        }
        let run = text[second + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if run >= MIN_MASKED_RUN {
            let end = second + 1 + run;
            runs.push(second..end);
            // The run holds no `_`, so no other id starts inside it.
            from = end;
        } else if run > 0 && starts_like_a_key(text, first, second) {
            runs.push(second..second + 1 + run);
            // A short run may itself be the id of a key that follows it.
            from = second;
        }
    }
    runs
}

/// Whether a key prefix ends at `underscore`, starts the word it is in, and
/// the id after it looks random (not all lowercase, as words are, and as a
/// random id is about once in 30,000): then even a short run after
/// `<prefix>_<id>_` is a truncated secret (a cut-off selector), masked too.
fn starts_like_a_key(text: &[u8], underscore: usize, id_end: usize) -> bool {
    let id = &text[underscore + 1..id_end];
    if id.iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    let word = text[..underscore]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let prefix = &text[underscore - word..underscore];
    word > 0 && std::str::from_utf8(prefix).is_ok_and(is_valid_prefix)
}

/// Text with its `%XX` escapes of base62 characters, `_` and `%` decoded,
/// layer after layer, and for each decoded byte the range of the original
/// text it came from.
struct PercentView {
    bytes: Vec<u8>,
    origin: Vec<(usize, usize)>,
}

impl PercentView {
    fn new(text: &[u8]) -> Self {
        let mut view = PercentView {
            bytes: text.to_vec(),
            origin: (0..text.len()).map(|i| (i, i + 1)).collect(),
        };
        for _ in 0..PERCENT_LAYERS {
            if !view.decode_layer() {
                break;
            }
        }
        view
    }

    /// Decodes one layer of escapes; whether there was any.
    fn decode_layer(&mut self) -> bool {
        let (mut bytes, mut origin) = (Vec::with_capacity(self.bytes.len()), Vec::new());
        let mut decoded_any = false;
        let mut i = 0;
        while i < self.bytes.len() {
            let escaped = match self.bytes[i..] {
                [b'%', high, low, ..] => hex(high)
                    .zip(hex(low))
                    .map(|(high, low)| high << 4 | low)
                    .filter(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'%'),
                _ => None,
            };
            match escaped {
                Some(b) => {
                    bytes.push(b);
                    origin.push((self.origin[i].0, self.origin[i + 2].1));
                    decoded_any = true;
                    i += 3;
                }
                None => {
                    bytes.push(self.bytes[i]);
                    origin.push(self.origin[i]);
                    i += 1;
                }
            }
        }
        (self.bytes, self.origin) = (bytes, origin);
        decoded_any
    }
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

/// The URL with the password of its user part, and any `password=`
/// parameter, replaced by `***`.
///
/// The user part is taken as widely as any parser might read it: from the
/// first `:` to the last `@`. tokio-postgres ends it at the first `@`
/// anywhere, so a password with a raw `/`, `?` or `#` (common in generated
/// passwords) is still sent as the password, and must still be masked;
/// one with a raw `@` must be masked whole. Masking a little too much (a
/// query value holding `@`) only hides part of the URL.
pub fn mask_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let mut masked = url[..scheme_end].to_owned();
    let tail = match (rest.find(':'), rest.rfind('@')) {
        (Some(colon), Some(at)) if colon < at => {
            masked.push_str(&rest[..colon]);
            masked.push_str(":***");
            &rest[at..]
        }
        _ => rest,
    };
    match tail.split_once('?') {
        Some((path, query)) => {
            masked.push_str(path);
            masked.push('?');
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    // tokio-postgres decodes the name: `pass%77ord` is `password`.
                    Some((name, _))
                        if percent_decode_str(name)
                            .decode_utf8()
                            .is_ok_and(|n| n == "password") =>
                    {
                        format!("{name}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            masked.push_str(&pairs.join("&"));
        }
        None => masked.push_str(tail),
    }
    masked
}

/// `text` with the password of every `postgres://` or `postgresql://` URL
/// in it masked: the last guard on everything keysmith prints as an error,
/// since clap and other libraries quote arguments as they were typed
/// (`keysmith migrate postgres://bob:pw@db/keys` without `--to`). A URL
/// runs to the next blank or quote, or, when what precedes that looks like
/// `user:password` without its `@`, to the blank after the line's last `@`
/// (before any other URL): a password with a space in it is masked too.
pub fn mask_passwords_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut rest = line;
        while let Some(start) = find_url(rest) {
            out.push_str(&rest[..start]);
            let url = &rest[start..];
            // Up to the next URL of the line, if there is one.
            let own = find_url(&url[1..]).map_or(url.len(), |next| next + 1);
            let stop = |c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '`');
            let first_stop = url[..own].find(stop).unwrap_or(own);
            let token = &url[..first_stop];
            let authority = token.split_once("://").map_or("", |(_, a)| a);
            // A user and password without their `@` yet: the password holds
            // a blank; it runs to the last `@`.
            let end = match url[..own].rfind('@') {
                Some(at)
                    if at > first_stop && authority.contains(':') && !authority.contains('@') =>
                {
                    url[at..own].find(stop).map_or(own, |i| at + i)
                }
                _ => first_stop,
            };
            out.push_str(&mask_password(&url[..end]));
            rest = &url[end..];
        }
        out.push_str(rest);
    }
    out
}

/// Where the first `postgres://` or `postgresql://` in `text` starts.
fn find_url(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("postgres") {
        let at = from + i;
        let after = &lower[at + "postgres".len()..];
        if after.starts_with("://") || after.starts_with("ql://") {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests;

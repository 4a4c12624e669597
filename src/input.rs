//! The input rules of docs/src/input-rules.md. Each check returns the cleaned value or a
//! usage error naming the field and the rule.

use serde::Deserialize;

use crate::error::Error;
use crate::model::{Limits, RateLimit};

pub const MAX_NAME_CHARS: usize = 128;
/// A `create --from` line longer than this is refused rather than buffered.
pub const MAX_LINE: u64 = 1 << 20;
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
const MAX_SERVICE_LEN: usize = 32;

fn invalid(field: &str, rule: &str) -> Error {
    Error::Usage(format!("invalid {field}: {rule}"))
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Name: required, trimmed, 1–128 characters, no control characters.
pub fn name(raw: &str) -> Result<String, Error> {
    let trimmed = raw.trim();
    let rule = "must be 1 to 128 characters with no control characters (newline, tab, escape...)";
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_CHARS || has_control(trimmed) {
        return Err(invalid("name", rule));
    }
    Ok(trimmed.to_owned())
}

/// Description: optional, trimmed, at most 1024 characters, no control characters.
/// An empty description is no description.
pub fn description(raw: &str) -> Result<Option<String>, Error> {
    let trimmed = raw.trim();
    if trimmed.chars().count() > MAX_DESCRIPTION_CHARS || has_control(trimmed) {
        return Err(invalid(
            "description",
            "must be at most 1024 characters with no control characters (newline, tab, escape...)",
        ));
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// Service: `[a-z0-9][a-z0-9-]{0,31}`.
pub fn service(raw: &str) -> Result<String, Error> {
    let bytes = raw.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_SERVICE_LEN
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if !ok {
        return Err(invalid(
            "service",
            "must be 1 to 32 characters of a-z, 0-9 and '-', starting with a letter or digit",
        ));
    }
    Ok(raw.to_owned())
}

/// Prefix: `[a-z][a-z0-9]{0,15}`.
pub fn prefix(raw: &str) -> Result<String, Error> {
    if !crate::key_format::is_valid_prefix(raw) {
        return Err(invalid(
            "prefix",
            "must be 1 to 16 characters of a-z and 0-9, starting with a letter",
        ));
    }
    Ok(raw.to_owned())
}

/// An event action, for `history --action` (any case).
pub fn action(raw: &str) -> Result<String, Error> {
    let wanted = raw.trim().to_ascii_lowercase();
    if crate::model::ACTIONS.contains(&wanted.as_str()) {
        Ok(wanted)
    } else {
        Err(invalid(
            "--action",
            &format!("must be one of {}", crate::model::ACTIONS.join(", ")),
        ))
    }
}

/// Duration: one or more `<number><unit>` parts with units w, d, h, m, s
/// (`30d`, `1d12h`); the total must be positive. Returns seconds.
pub fn duration(field: &str, raw: &str) -> Result<i64, Error> {
    let bad = || {
        invalid(
            field,
            "use a positive duration such as 30d, 12h, 90m, 45s, 2w or 1d12h",
        )
    };
    let mut total: i64 = 0;
    let mut number: Option<i64> = None;
    for c in raw.chars() {
        if let Some(digit) = c.to_digit(10) {
            let n = number.unwrap_or(0);
            number = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(digit.into()))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let unit: i64 = match c {
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let part = number
            .take()
            .ok_or_else(bad)?
            .checked_mul(unit)
            .ok_or_else(bad)?;
        total = total.checked_add(part).ok_or_else(bad)?;
    }
    // Past 1,000 years a timestamp is meaningless and arithmetic could overflow.
    const LIMIT: i64 = 1_000 * 366 * 86_400;
    if number.is_some() || total <= 0 || total > LIMIT {
        return Err(bad());
    }
    Ok(total)
}

/// The most scopes one key holds (docs/src/limits.md).
pub const MAX_SCOPES: usize = 64;
const MAX_SCOPE_LEN: usize = 64;
/// The most uses a key can be granted: more than any key will ever have,
/// and exact as a JSON number in every language (2^53 is not reached).
pub const MAX_USES: i64 = 1_000_000_000_000;
/// The most VALID answers a rate limit allows per window.
pub const MAX_RATE: u32 = 1_000_000;
/// The longest rate-limit window: a day. Longer budgets are uses.
const MAX_RATE_WINDOW: i64 = 86_400;

/// Scope: `[a-z0-9][a-z0-9_.:-]{0,63}`, with `*` allowed as a whole last
/// segment after `:` (`sms:*`).
pub fn scope(raw: &str) -> Result<String, Error> {
    let body = raw
        .strip_suffix(":*")
        .map_or(raw, |base| &raw[..base.len() + 1]);
    let bytes = body.as_bytes();
    let ok = !bytes.is_empty()
        && raw.len() <= MAX_SCOPE_LEN
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes.iter().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b':' | b'-')
        });
    if !ok {
        return Err(invalid(
            "scope",
            "must be 1 to 64 characters of a-z, 0-9, '_', '.', ':' and '-', starting with a \
             letter or digit, optionally ending in ':*' (for example sms:send or sms:*)",
        ));
    }
    Ok(raw.to_owned())
}

/// A key's scopes: each checked, duplicates dropped (first kept), at most 64.
pub fn scopes<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, Error> {
    let mut scopes: Vec<String> = Vec::with_capacity(raw.len());
    for s in raw {
        let s = scope(s.as_ref())?;
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if scopes.len() > MAX_SCOPES {
        return Err(invalid("scopes", "a key holds at most 64 scopes"));
    }
    Ok(scopes)
}

/// Uses: a whole number from 1 to 10^12.
pub fn uses(field: &str, raw: &str) -> Result<i64, Error> {
    match raw.parse::<i64>() {
        Ok(n) if (1..=MAX_USES).contains(&n) && raw.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(invalid(
            field,
            "must be a whole number of uses from 1 to 1000000000000",
        )),
    }
}

/// Rate: `N/DUR`, at most N VALID answers in any window of DUR (`100/1m`);
/// N from 1 to 1,000,000, DUR a duration of at most a day.
pub fn rate(field: &str, raw: &str) -> Result<RateLimit, Error> {
    let bad = || {
        invalid(
            field,
            "use N/DURATION, at most N verifications in any DURATION, such as 100/1m or 5000/1h \
             (N from 1 to 1000000, DURATION at most 1d)",
        )
    };
    let (count, window) = raw.split_once('/').ok_or_else(bad)?;
    let limit = match count.parse::<u32>() {
        Ok(n) if (1..=MAX_RATE).contains(&n) && count.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => return Err(bad()),
    };
    let per = duration(field, window).map_err(|_| bad())?;
    if per > MAX_RATE_WINDOW {
        return Err(bad());
    }
    Ok(RateLimit {
        limit,
        per_seconds: per as u32,
    })
}

/// A key's fields, checked against the input rules, before it is minted.
pub struct NewKey {
    pub name: String,
    pub description: Option<String>,
    pub service: Option<String>,
    pub prefix: String,
    pub expires_in: Option<i64>,
    /// Its scopes, granted uses and rate limit.
    pub limits: Limits,
}

/// One input line. Unknown fields are refused: a typo must not pass silently.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    name: String,
    description: Option<String>,
    service: Option<String>,
    prefix: Option<String>,
    expires_in: Option<String>,
    scopes: Option<Vec<String>>,
    uses: Option<serde_json::Value>,
    rate: Option<String>,
}

/// One line of `create --from`: a checked key spec, or `None` for a blank line.
pub fn key_line(raw: &[u8], default_prefix: &str) -> Result<Option<NewKey>, Error> {
    if raw.len() as u64 > MAX_LINE {
        return Err(Error::Usage("longer than 1 MiB".into()));
    }
    let text = std::str::from_utf8(raw).map_err(|_| Error::Usage("not UTF-8".into()))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let not_object = |why: &dyn std::fmt::Display| {
        Error::Usage(format!(
            "not a key object ({why}); expected {{\"name\": ..., \"description\": ..., \"service\": ..., \"prefix\": ..., \"expires_in\": ..., \"scopes\": [...], \"uses\": N, \"rate\": \"N/DURATION\"}}"
        ))
    };
    let line: Line = serde_json::from_str(text).map_err(|e| {
        // serde counts lines of its own input, the one line: only the
        // column is news beside the caller's "line N".
        let full = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        match full.strip_suffix(&position) {
            Some(why) => not_object(&format_args!("{why}, at column {}", e.column())),
            None => not_object(&full),
        }
    })?;
    // serde also reads a struct from an array, field by field in order
    // (`["name", "description", ...]`): only an object names its fields.
    if !text.trim_start().starts_with('{') {
        return Err(not_object(&"an array, not an object"));
    }
    Ok(Some(NewKey {
        name: name(&line.name)?,
        description: line
            .description
            .as_deref()
            .map(description)
            .transpose()?
            .flatten(),
        service: line.service.as_deref().map(service).transpose()?,
        prefix: match line.prefix {
            Some(p) => prefix(&p)?,
            None => default_prefix.to_owned(),
        },
        expires_in: line
            .expires_in
            .as_deref()
            .map(|d| duration("expires_in", d))
            .transpose()?,
        limits: Limits {
            scopes: scopes(line.scopes.as_deref().unwrap_or_default())?,
            remaining_uses: line.uses.as_ref().map(json_uses).transpose()?,
            rate: line.rate.as_deref().map(|r| rate("rate", r)).transpose()?,
        },
    }))
}

/// `uses` of a JSON line: a number (or its digits in a string).
fn json_uses(value: &serde_json::Value) -> Result<i64, Error> {
    match value {
        serde_json::Value::Number(n) => uses("uses", &n.to_string()),
        serde_json::Value::String(s) => uses("uses", s),
        _ => uses("uses", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scopes_uses_and_rates() {
        for good in ["sms:send", "sms:*", "a", "0.x_y-z:w", "sms:eu:*"] {
            assert_eq!(scope(good).unwrap(), good);
        }
        let longest = format!("a{}", "b".repeat(63));
        assert!(scope(&longest).is_ok());
        for bad in [
            "", "*", ":*", "Sms", "-a", "a b", "sms:*:x", "sms*", "a:**", "é",
        ] {
            assert!(scope(bad).is_err(), "{bad:?}");
        }
        assert!(scope(&format!("{longest}b")).is_err());
        let many: Vec<String> = (0..64).map(|i| format!("s{i}")).collect();
        assert_eq!(scopes(&many).unwrap().len(), 64);
        let twice = vec!["a".to_owned(), "b".to_owned(), "a".to_owned()];
        assert_eq!(scopes(&twice).unwrap(), ["a", "b"]);
        let too_many: Vec<String> = (0..65).map(|i| format!("s{i}")).collect();
        assert!(scopes(&too_many).is_err());

        assert_eq!(uses("--uses", "1").unwrap(), 1);
        assert_eq!(uses("--uses", "1000000000000").unwrap(), MAX_USES);
        for bad in ["0", "-1", "+5", " 5", "1e3", "1000000000001", ""] {
            assert!(uses("--uses", bad).is_err(), "{bad:?}");
        }

        let r = rate("--rate", "100/1m").unwrap();
        assert_eq!((r.limit, r.per_seconds), (100, 60));
        assert_eq!(r.display(), "100/1m");
        assert_eq!(rate("--rate", "5/90s").unwrap().display(), "5/90s");
        assert_eq!(rate("--rate", "1000000/1d").unwrap().per_seconds, 86_400);
        for bad in [
            "100",
            "0/1m",
            "1000001/1m",
            "10/2d",
            "10/0s",
            "10/",
            "/1m",
            "a/1m",
            "1/1m/1",
        ] {
            assert!(rate("--rate", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration("d", "30d").unwrap(), 30 * 86_400);
        assert_eq!(duration("d", "12h").unwrap(), 12 * 3_600);
        assert_eq!(duration("d", "90m").unwrap(), 5_400);
        assert_eq!(duration("d", "45s").unwrap(), 45);
        assert_eq!(duration("d", "2w").unwrap(), 14 * 86_400);
        assert_eq!(duration("d", "1d12h").unwrap(), 36 * 3_600);
        for bad in [
            "",
            "0s",
            "0d0h",
            "d",
            "12",
            "1x",
            "-1d",
            "1 d",
            "1.5h",
            "99999999999999999999s",
            "1d12",
        ] {
            assert!(duration("d", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names() {
        assert_eq!(name("  Data Sync ").unwrap(), "Data Sync");
        assert!(name("   ").is_err());
        assert!(name(&"x".repeat(128)).is_ok());
        assert!(name(&"x".repeat(129)).is_err());
        assert!(
            name(&"é".repeat(128)).is_ok(),
            "the limit counts characters, not bytes"
        );
        for bad in ["a\nb", "a\tb", "a\u{1b}[31mb", "a\u{7f}"] {
            assert!(name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn services_and_prefixes() {
        assert!(service("sms").is_ok());
        assert!(service("0-sms-eu").is_ok());
        for bad in ["", "-sms", "SMS", "sms_eu", &"a".repeat(33)] {
            assert!(service(bad).is_err(), "{bad:?} accepted");
        }
        assert!(prefix("ks").is_ok());
        for bad in ["", "1ks", "Ks", "k_s", &"a".repeat(17)] {
            assert!(prefix(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn duration_never_panics(s in "\\PC{0,30}") {
            let _ = duration("d", &s);
        }
    }
}

#[cfg(test)]
mod line_tests {
    use super::key_line;

    #[test]
    fn lines() {
        let spec = key_line(
            br#"{"name": " a ", "service": "sms", "expires_in": "1d"}"#,
            "ks",
        )
        .unwrap()
        .unwrap();
        assert_eq!((spec.name.as_str(), spec.prefix.as_str()), ("a", "ks"));
        assert_eq!(spec.expires_in, Some(86_400));
        assert!(key_line(b"  \n", "ks").unwrap().is_none());
        for bad in [
            &br#"{"name": ""}"#[..],
            br#"{"nme": "x"}"#,
            br#"{"name": "x", "extra": 1}"#,
            br#"["x"]"#,
            // Found by fuzz/fuzz_targets/key_line.rs: five elements filled the five fields.
            br#"["c", "serv", "c", "serv", null]"#,
            br#" ["x", null, null, null, "1d"]"#,
            br#"{"name": "x", "prefix": "Bad"}"#,
            b"\xff\xfe",
        ] {
            assert!(key_line(bad, "ks").is_err(), "{bad:?}");
        }
    }
}

//! Durations (docs/src/input-rules.md): one grammar, one or more
//! `<number><unit>` parts with units w, d, h, m, s (`30d`, `1d12h`), the
//! total positive and at most 1,000 years. `ms` is a unit only where a
//! flag takes sub-second values (`SubsecondDuration`: `serve
//! --flush-interval` and `--header-timeout`, docs/src/serve.md).

use std::fmt;
use std::str::FromStr;

use super::Invalid;

const MS_PER_SECOND: i64 = 1_000;
/// Past 1,000 years a timestamp is meaningless and arithmetic could overflow.
const LIMIT_MS: i64 = 1_000 * 366 * 86_400 * MS_PER_SECOND;

/// The total of `raw` in milliseconds; `None` if it breaks the grammar.
/// `ms` is a unit only when `subsecond`.
fn milliseconds(raw: &str, subsecond: bool) -> Option<i64> {
    let bytes = raw.as_bytes();
    let mut total: i64 = 0;
    let mut number: Option<i64> = None;
    let mut at = 0;
    while at < bytes.len() {
        let c = bytes[at];
        at += 1;
        if c.is_ascii_digit() {
            let n = number.unwrap_or(0);
            number = Some(n.checked_mul(10)?.checked_add(i64::from(c - b'0'))?);
            continue;
        }
        let unit: i64 = match c {
            b'm' if subsecond && bytes.get(at) == Some(&b's') => {
                at += 1;
                1
            }
            b'w' => 7 * 86_400 * MS_PER_SECOND,
            b'd' => 86_400 * MS_PER_SECOND,
            b'h' => 3_600 * MS_PER_SECOND,
            b'm' => 60 * MS_PER_SECOND,
            b's' => MS_PER_SECOND,
            _ => return None,
        };
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    (number.is_none() && total > 0 && total <= LIMIT_MS).then_some(total)
}

/// A duration in whole seconds (`--expires-in`, `--grace`, `--since`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration(i64);

impl Duration {
    pub fn seconds(self) -> i64 {
        self.0
    }
}

impl FromStr for Duration {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        milliseconds(raw, false)
            .map(|ms| Duration(ms / MS_PER_SECOND))
            .ok_or_else(|| {
                Invalid::unnamed(
                    "duration",
                    "use a positive duration such as 30d, 12h, 90m, 45s, 2w or 1d12h",
                )
            })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0)
    }
}

/// A duration that may be shorter than a second (`500ms`, `1s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubsecondDuration(std::time::Duration);

impl SubsecondDuration {
    pub fn get(self) -> std::time::Duration {
        self.0
    }
}

impl FromStr for SubsecondDuration {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        milliseconds(raw, true)
            .map(|ms| SubsecondDuration(std::time::Duration::from_millis(ms.unsigned_abs())))
            .ok_or_else(|| {
                Invalid::unnamed(
                    "duration",
                    "use a positive duration such as 500ms, 30s, 12h, 90m, 2w or 1m30s",
                )
            })
    }
}

impl fmt::Display for SubsecondDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0.as_millis())
    }
}

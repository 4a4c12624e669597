//! Clock and timestamp formats: RFC 3339 UTC for machines, local minutes for people.

use std::fmt;

use chrono::{DateTime, Datelike, Local, SecondsFormat, Timelike, Utc};
use serde::{Serialize, Serializer};

use crate::store::Timestamp;

pub fn now() -> Timestamp {
    Utc::now().timestamp()
}

fn utc(ts: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap_or_default()
}

/// `2026-11-22T18:14:22Z`
pub fn rfc3339(ts: Timestamp) -> String {
    // Not `format`: parsing a format string per call is slow in bulk output.
    utc(ts).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A timestamp that prints as RFC 3339 UTC: serialised straight into the
/// output, with no string made per field (bulk listings print millions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub Timestamp);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = utc(self.0);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `2026-11-22 19:14`, in the local time zone.
pub fn local_minutes(ts: Timestamp) -> String {
    utc(ts)
        .with_timezone(&Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_is_utc_seconds() {
        assert_eq!(super::rfc3339(1_795_371_262), "2026-11-22T18:14:22Z");
        for ts in [0, 1_795_371_262, 951_782_400, 4_102_444_799] {
            assert_eq!(super::Rfc3339(ts).to_string(), super::rfc3339(ts));
        }
    }
}

//! Clock and timestamp formats: RFC 3339 UTC for machines, local minutes for people.

use chrono::{DateTime, Local, SecondsFormat, Utc};

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
    }
}

//! Clock and timestamp formats: RFC 3339 UTC for machines, local minutes for people.

use std::fmt;

use chrono::{DateTime, Datelike, Local, SecondsFormat, Timelike, Utc};
use serde::{Serialize, Serializer};

use crate::store::Timestamp;

pub fn now() -> Timestamp {
    Utc::now().timestamp()
}

/// The host's clock in milliseconds, read from the kernel itself: what a
/// SQLite store's rate leases are timed by (docs/src/fleet-limits.md). Not
/// through the C library, so that no process's own view of time (a
/// preloaded `faketime`) moves it: every process on the host reads the
/// same clock, as every host does a PostgreSQL server's.
pub fn host_clock_ms() -> i64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Realtime);
    t.tv_sec * 1000 + t.tv_nsec / 1_000_000
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

impl Rfc3339 {
    /// `YYYY-MM-DDThh:mm:ssZ` as bytes, the date computed by hand: going
    /// through chrono and `fmt` cost a tenth of a million-row listing. `None`
    /// outside years 0-9999, which take the general path.
    pub fn ascii(self) -> Option<[u8; 20]> {
        let (year, month, day) = civil_from_days(self.0.div_euclid(86_400));
        let year = u32::try_from(year).ok().filter(|y| *y <= 9999)?;
        let seconds = self.0.rem_euclid(86_400) as u32;
        let mut out = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, value: u32, width: usize| {
            let mut value = value;
            for i in (at..at + width).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, year, 4);
        put(5, month, 2);
        put(8, day, 2);
        put(11, seconds / 3600, 2);
        put(14, seconds / 60 % 60, 2);
        put(17, seconds % 60, 2);
        Some(out)
    }
}

/// The proleptic Gregorian (year, month, day) of a count of days since
/// 1970-01-01: Howard Hinnant's `civil_from_days`, exact for any `i64` day
/// count a timestamp in seconds can give.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ascii) = self.ascii() {
            // Only ASCII digits and separators were written.
            return f.write_str(std::str::from_utf8(&ascii).map_err(|_| fmt::Error)?);
        }
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

/// `2026-11-22 19:14:05`, in the local time zone: for the event log, where
/// events often come seconds apart.
pub fn local_seconds(ts: Timestamp) -> String {
    utc(ts)
        .with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// `2026-11-22`, in the local time zone: a date for a narrow column.
pub fn local_date(ts: Timestamp) -> String {
    utc(ts).with_timezone(&Local).format("%Y-%m-%d").to_string()
}

/// How long before `now` `ts` was, in its largest whole unit (`5m ago`,
/// `3h ago`, `12d ago`), as `kubectl` and `gh` show ages; the date past a
/// month, and `just now` under a minute.
pub fn ago(ts: Timestamp, now: Timestamp) -> String {
    let secs = now.saturating_sub(ts);
    match secs {
        ..60 => "just now".to_owned(),
        60..3_600 => format!("{}m ago", secs / 60),
        3_600..86_400 => format!("{}h ago", secs / 3_600),
        86_400..2_678_400 => format!("{}d ago", secs / 86_400),
        _ => local_date(ts),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The hand-written date agrees with chrono's over years 0-9999.
        #[test]
        fn ascii_matches_chrono(ts in -62_167_219_200i64..253_402_300_800) {
            let ascii = super::Rfc3339(ts).ascii().expect("years 0-9999");
            prop_assert_eq!(std::str::from_utf8(&ascii).unwrap(), super::rfc3339(ts));
        }
    }

    #[test]
    fn ages_in_their_largest_whole_unit() {
        let now = 1_795_371_262;
        assert_eq!(super::ago(now, now), "just now");
        assert_eq!(super::ago(now + 30, now), "just now");
        assert_eq!(super::ago(now - 59, now), "just now");
        assert_eq!(super::ago(now - 60, now), "1m ago");
        assert_eq!(super::ago(now - 7_200, now), "2h ago");
        assert_eq!(super::ago(now - 86_400 * 12, now), "12d ago");
        assert_eq!(
            super::ago(now - 86_400 * 40, now),
            super::local_date(now - 86_400 * 40)
        );
    }

    #[test]
    fn rfc3339_is_utc_seconds() {
        assert_eq!(super::rfc3339(1_795_371_262), "2026-11-22T18:14:22Z");
        for ts in [
            0,
            1_795_371_262,
            951_782_400,
            4_102_444_799,
            253_402_300_799,
        ] {
            assert_eq!(super::Rfc3339(ts).to_string(), super::rfc3339(ts));
        }
        // Before year 0 and past year 9999 the general path takes over.
        assert!(super::Rfc3339(-62_167_219_201).ascii().is_none());
        assert_eq!(
            super::Rfc3339(-62_167_219_200).to_string(),
            "0000-01-01T00:00:00Z"
        );
        assert!(super::Rfc3339(253_402_300_800).ascii().is_none());
        assert_eq!(
            super::Rfc3339(253_402_300_800).to_string(),
            "10000-01-01T00:00:00Z"
        );
    }
}

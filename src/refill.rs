//! Refills (docs/src/owners.md): the uses left of a key or an owner return
//! to an amount at the start of each period, in UTC: each day, each week
//! (from Monday), each month on a day (a day past the month's end is its
//! last day), or each interval counted from when the refill was set. No
//! cron: the uses a verification sees are computed from the schedule and
//! the start of the period last refilled, and a verification that spends
//! writes the refill it used, in its own transaction.

use chrono::{Datelike, NaiveDate};

use crate::model::Timestamp;

const DAY: i64 = 86_400;

/// How often a refill comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefillEvery {
    Day,
    /// From Monday 00:00 UTC.
    Week,
    /// On this day of each month (1 to 31; past the month's end, its last day).
    Month(u8),
    /// Every so many seconds, from when the refill was set.
    Interval(i64),
}

impl RefillEvery {
    /// As stored and as `--refill` takes it: `daily`, `weekly`,
    /// `monthly:15`, or an interval in seconds such as `43200s`.
    pub fn stored(self) -> String {
        match self {
            RefillEvery::Day => "daily".to_owned(),
            RefillEvery::Week => "weekly".to_owned(),
            RefillEvery::Month(day) => format!("monthly:{day}"),
            RefillEvery::Interval(secs) => format!("{secs}s"),
        }
    }

    /// Back from `stored`; `None` for text keysmith does not write.
    pub fn from_stored(text: &str) -> Option<RefillEvery> {
        match text {
            "daily" => Some(RefillEvery::Day),
            "weekly" => Some(RefillEvery::Week),
            _ => {
                if let Some(day) = text.strip_prefix("monthly:") {
                    let day: u8 = day.parse().ok()?;
                    return (1..=31).contains(&day).then_some(RefillEvery::Month(day));
                }
                let secs: i64 = text.strip_suffix('s')?.parse().ok()?;
                (secs > 0).then_some(RefillEvery::Interval(secs))
            }
        }
    }

    /// In words, for people: `daily`, `monthly on day 1`, `every 12h`.
    pub fn words(self) -> String {
        match self {
            RefillEvery::Month(day) => format!("monthly on day {day}"),
            RefillEvery::Interval(secs) => {
                let (unit, name) = [(DAY, "d"), (3_600, "h"), (60, "m"), (1, "s")]
                    .into_iter()
                    .find(|(unit, _)| secs % unit == 0)
                    .unwrap_or((1, "s"));
                format!("every {}{name}", secs / unit)
            }
            other => other.stored(),
        }
    }
}

/// A refill of a key's or an owner's uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refill {
    pub every: RefillEvery,
    /// What the uses left return to.
    pub uses: i64,
    /// The start of the period last refilled, or when the refill was set.
    pub refilled_at: Timestamp,
}

impl Refill {
    /// A refill set at `now`: the first comes at the next period's start.
    pub fn new(every: RefillEvery, uses: i64, now: Timestamp) -> Refill {
        Refill {
            every,
            uses,
            refilled_at: now,
        }
    }

    /// The start of the period `at` is in.
    pub fn period_start(&self, at: Timestamp) -> Timestamp {
        match self.every {
            RefillEvery::Day => at - at.rem_euclid(DAY),
            RefillEvery::Week => {
                let day = at.div_euclid(DAY);
                // 1970-01-01 was a Thursday: Monday is 3 days before.
                (day - (day + 3).rem_euclid(7)) * DAY
            }
            RefillEvery::Month(day) => {
                let date = chrono::DateTime::from_timestamp(at, 0)
                    .map(|t| t.date_naive())
                    .unwrap_or_default();
                let this = month_day(date.year(), date.month(), day);
                if this <= at {
                    this
                } else {
                    let (y, m) = previous_month(date.year(), date.month());
                    month_day(y, m, day)
                }
            }
            RefillEvery::Interval(secs) => {
                let since = (at - self.refilled_at).max(0);
                self.refilled_at + since - since % secs
            }
        }
    }

    /// The start of the period after the one `at` is in: when the next
    /// refill comes.
    pub fn next_at(&self, at: Timestamp) -> Timestamp {
        let start = self.period_start(at);
        match self.every {
            RefillEvery::Day => start + DAY,
            RefillEvery::Week => start + 7 * DAY,
            RefillEvery::Month(day) => {
                let date = chrono::DateTime::from_timestamp(start, 0)
                    .map(|t| t.date_naive())
                    .unwrap_or_default();
                let (y, m) = next_month(date.year(), date.month());
                month_day(y, m, day)
            }
            RefillEvery::Interval(secs) => start + secs,
        }
    }

    /// Whether a period began after the last refill: the uses left at
    /// `at` are then `uses`, whatever is stored.
    pub fn is_due(&self, at: Timestamp) -> bool {
        self.period_start(at) > self.refilled_at
    }
}

/// A refill from its three stored columns (schedule, amount, last refill);
/// `None` unless all three are there and the schedule is one keysmith writes.
pub fn from_columns(every: Option<&str>, uses: Option<i64>, at: Option<i64>) -> Option<Refill> {
    Some(Refill {
        every: RefillEvery::from_stored(every?)?,
        uses: uses?,
        refilled_at: at?,
    })
}

/// A refill as its three stored columns.
pub fn columns(refill: Option<Refill>) -> (Option<String>, Option<i64>, Option<i64>) {
    match refill {
        None => (None, None, None),
        Some(r) => (Some(r.every.stored()), Some(r.uses), Some(r.refilled_at)),
    }
}

/// Midnight UTC of `day` in the month (its last day when the month is shorter).
fn month_day(year: i32, month: u32, day: u8) -> Timestamp {
    let last = (28..=31)
        .rev()
        .find(|d| NaiveDate::from_ymd_opt(year, month, *d).is_some())
        .unwrap_or(28);
    NaiveDate::from_ymd_opt(year, month, u32::from(day).min(last))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |t| t.and_utc().timestamp())
}

fn previous_month(year: i32, month: u32) -> (i32, u32) {
    if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    }
}

fn next_month(year: i32, month: u32) -> (i32, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp()
    }

    fn refill(every: RefillEvery, set: &str) -> Refill {
        Refill::new(every, 10, at(set))
    }

    #[test]
    fn periods_start_at_midnight_utc_mondays_and_the_month_s_day() {
        let daily = refill(RefillEvery::Day, "2026-12-07T10:00:00Z");
        assert_eq!(
            daily.period_start(at("2026-12-07T23:59:59Z")),
            at("2026-12-07T00:00:00Z")
        );
        assert_eq!(
            daily.next_at(at("2026-12-07T10:00:00Z")),
            at("2026-12-08T00:00:00Z")
        );
        assert!(!daily.is_due(at("2026-12-07T23:59:59Z")));
        assert!(daily.is_due(at("2026-12-08T00:00:00Z")));

        // 2026-12-07 is a Monday.
        let weekly = refill(RefillEvery::Week, "2026-12-09T10:00:00Z");
        assert_eq!(
            weekly.period_start(at("2026-12-13T23:00:00Z")),
            at("2026-12-07T00:00:00Z")
        );
        assert_eq!(
            weekly.next_at(at("2026-12-09T10:00:00Z")),
            at("2026-12-14T00:00:00Z")
        );

        // Day 31 in a 30-day month and in February is their last day.
        let monthly = refill(RefillEvery::Month(31), "2026-11-15T00:00:00Z");
        assert_eq!(
            monthly.period_start(at("2026-11-15T00:00:00Z")),
            at("2026-10-31T00:00:00Z")
        );
        assert_eq!(
            monthly.next_at(at("2026-11-15T00:00:00Z")),
            at("2026-11-30T00:00:00Z")
        );
        assert_eq!(
            monthly.next_at(at("2027-02-01T00:00:00Z")),
            at("2027-02-28T00:00:00Z")
        );
        assert_eq!(
            monthly.next_at(at("2028-02-01T00:00:00Z")),
            at("2028-02-29T00:00:00Z")
        );
        let first = refill(RefillEvery::Month(1), "2026-12-31T23:59:59Z");
        assert!(!first.is_due(at("2026-12-31T23:59:59Z")));
        assert!(first.is_due(at("2027-01-01T00:00:00Z")));
        assert_eq!(
            first.next_at(at("2026-12-31T23:59:59Z")),
            at("2027-01-01T00:00:00Z")
        );
    }

    #[test]
    fn an_interval_counts_from_when_it_was_set() {
        let every = refill(RefillEvery::Interval(3_600), "2026-12-07T10:20:00Z");
        assert!(!every.is_due(at("2026-12-07T11:19:59Z")));
        assert!(every.is_due(at("2026-12-07T11:20:00Z")));
        assert_eq!(
            every.period_start(at("2026-12-07T13:00:00Z")),
            at("2026-12-07T12:20:00Z")
        );
        assert_eq!(
            every.next_at(at("2026-12-07T13:00:00Z")),
            at("2026-12-07T13:20:00Z")
        );
    }

    #[test]
    fn the_stored_form_reads_back() {
        for every in [
            RefillEvery::Day,
            RefillEvery::Week,
            RefillEvery::Month(1),
            RefillEvery::Month(31),
            RefillEvery::Interval(43_200),
        ] {
            assert_eq!(RefillEvery::from_stored(&every.stored()), Some(every));
        }
        for bad in ["monthly:0", "monthly:32", "0s", "-5s", "hourly", ""] {
            assert_eq!(RefillEvery::from_stored(bad), None, "{bad}");
        }
    }
}

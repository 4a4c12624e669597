//! `keysmith::input::Duration` read from arbitrary text.
//!
//! Invariants checked, beyond "no panic":
//! - the result agrees with an independent reading of the rule (one or more
//!   `<digits><unit>` parts, units w d h m s, total positive and at most
//!   1,000 years), computed without overflow;
//! - an accepted duration is positive and bounded, and `<seconds>s` reads back
//!   to the same value;
//! - a refusal names the field it is said of.

#![no_main]

use keysmith::input::Duration;
use libfuzzer_sys::fuzz_target;

/// The documented bound: 1,000 years of 366 days.
const LIMIT: i64 = 1_000 * 366 * 86_400;
const FIELD: &str = "expires_in";

/// The rule, read with saturating arithmetic: `None` when refused.
fn reference(raw: &str) -> Option<i64> {
    let cap = i128::from(LIMIT) + 1;
    let mut total: i128 = 0;
    let mut number: Option<i128> = None;
    for c in raw.chars() {
        if c.is_ascii_digit() {
            let digit = i128::from(c as u8 - b'0');
            number = Some((number.unwrap_or(0) * 10 + digit).min(cap));
            continue;
        }
        let unit: i128 = match c {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = (total + number.take()? * unit).min(cap);
    }
    if number.is_some() || total <= 0 || total > i128::from(LIMIT) {
        return None;
    }
    Some(total as i64)
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let got = raw.parse::<Duration>().map(Duration::seconds);
    match (&got, reference(raw)) {
        (Ok(seconds), Some(expected)) => {
            assert_eq!(*seconds, expected, "{raw:?}");
            assert!(0 < *seconds && *seconds <= LIMIT, "{raw:?} -> {seconds}");
            let again = format!("{seconds}s")
                .parse::<Duration>()
                .expect("<seconds>s reads back");
            assert_eq!(again.seconds(), *seconds);
        }
        (Err(refusal), None) => {
            let message = refusal.clone().or_field(FIELD).to_string();
            assert!(
                message.contains(FIELD),
                "{message:?} does not name the field"
            );
        }
        (got, expected) => panic!("{raw:?}: duration gave {got:?}, the rule gives {expected:?}"),
    }
});

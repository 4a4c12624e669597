//! Rate limits (docs/src/limits.md): each key's VALID answers counted in a sliding
//! window, per `serve` process.
//!
//! A log of admissions per key, exact in what it admits: never more than
//! `limit` answers in any window of `per_seconds`. Admissions close
//! together share one entry (at most `ENTRIES` a key, so memory does not
//! grow with the limit); an entry leaves the window when its latest
//! admission does, so a key may be refused up to 1/`ENTRIES` of a window
//! early, never admitted early.
//!
//! Not `governor` (GCRA): a GCRA limiter allows a burst of the limit and
//! then the steady rate, so within one window of the limit's duration it
//! can admit close to twice the limit, which the contract forbids
//! (docs/src/limits.md: never more than N in any window).
//!
//! An admission is a reservation (`Admission`), made before the answer is
//! known and counted from then on: requests deciding at the same time
//! cannot all pass. The final verdict commits or cancels exactly that
//! reservation.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::RateLimit;
use crate::verify::RateLimits;

/// Entries a key's log keeps at most: the window in this many slices.
const ENTRIES: u32 = 1024;

#[derive(Default)]
pub struct RateLimiter {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    logs: HashMap<String, Log>,
    /// The number the next new entry gets: unique in this limiter's life,
    /// so an admission names its entry even after the key's log was
    /// forgotten and begun again.
    next_entry: u64,
}

#[derive(Default)]
struct Log {
    /// Oldest first, so in increasing `number`.
    entries: VecDeque<Entry>,
    /// Admissions in `entries`.
    count: u64,
    /// The window of the key's limit when last admitted.
    window: Duration,
}

struct Entry {
    number: u64,
    first: Instant,
    last: Instant,
    count: u64,
}

/// A place in a key's window, reserved by `admit` for one answer still
/// being decided. It counts against the limit from the moment it is made
/// until it is cancelled: `commit` it when the answer is VALID, `cancel` it
/// when it turned out not to be (no use left, the store failed). One
/// dropped without either stays counted: a limit is never over-granted.
#[must_use = "commit or cancel an admission once the answer is known"]
#[derive(Debug, PartialEq, Eq)]
pub struct Admission {
    id: String,
    entry: u64,
}

impl RateLimiter {
    /// Reserves one answer for key `id` at `now`, or says how long until
    /// its window has room for one.
    pub fn admit(&self, id: &str, rate: RateLimit, now: Instant) -> Result<Admission, Duration> {
        let window = Duration::from_secs(u64::from(rate.per_seconds.max(1)));
        let slice = window / ENTRIES;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let State { logs, next_entry } = &mut *state;
        let log = match logs.get_mut(id) {
            Some(log) => log,
            None => logs.entry(id.to_owned()).or_default(),
        };
        log.window = window;
        while let Some(front) = log.entries.front() {
            if front.last + window > now {
                break;
            }
            log.count -= front.count;
            log.entries.pop_front();
        }
        if log.count >= u64::from(rate.limit) {
            let front = log.entries.front().map_or(now, |e| e.last);
            return Err((front + window).saturating_duration_since(now));
        }
        log.count += 1;
        let entry = match log.entries.back_mut() {
            Some(back) if now.saturating_duration_since(back.first) < slice => {
                back.last = back.last.max(now);
                back.count += 1;
                back.number
            }
            _ => {
                let number = *next_entry;
                *next_entry += 1;
                log.entries.push_back(Entry {
                    number,
                    first: now,
                    last: now,
                    count: 1,
                });
                number
            }
        };
        Ok(Admission {
            id: id.to_owned(),
            entry,
        })
    }

    /// The answer `admission` was reserved for is VALID: it stays counted
    /// until it leaves the window.
    pub fn commit(&self, admission: Admission) {
        drop(admission);
    }

    /// The answer `admission` was reserved for is not VALID after all:
    /// gives back exactly that reservation (not the key's latest, which
    /// may be another request's, admitted later).
    pub fn cancel(&self, admission: Admission) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(log) = state.logs.get_mut(&admission.id) else {
            return;
        };
        // Gone from the window already: nothing to give back.
        let Ok(at) = log
            .entries
            .binary_search_by_key(&admission.entry, |e| e.number)
        else {
            return;
        };
        let entry = &mut log.entries[at];
        entry.count -= 1;
        log.count -= 1;
        if entry.count == 0 {
            log.entries.remove(at);
        }
    }

    /// Forgets the keys whose window holds no admission: memory for the
    /// keys in use only.
    pub fn forget_idle(&self, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.logs.retain(|_, log| {
            log.entries
                .back()
                .is_some_and(|e| e.last + log.window > now)
        });
    }
}

/// The verdict (`verify::judge_rated`) decides when to admit, commit and
/// cancel; this limiter keeps the windows.
impl RateLimits for RateLimiter {
    type Admission = Admission;

    fn admit(&self, id: &str, rate: RateLimit, now: Instant) -> Result<Admission, Duration> {
        RateLimiter::admit(self, id, rate, now)
    }

    fn commit(&self, admission: Admission) {
        RateLimiter::commit(self, admission);
    }

    fn cancel(&self, admission: Admission) {
        RateLimiter::cancel(self, admission);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(limit: u32, per_seconds: u32) -> RateLimit {
        RateLimit { limit, per_seconds }
    }

    #[test]
    fn admits_the_limit_in_any_window_then_more_as_it_slides() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        let r = rate(3, 10);
        for i in 0..3 {
            assert!(
                limiter
                    .admit("a", r, start + Duration::from_secs(i))
                    .is_ok()
            );
        }
        let refused = limiter.admit("a", r, start + Duration::from_secs(5));
        assert_eq!(refused, Err(Duration::from_secs(5)));
        // The first admission leaves the window at 10 s; the second at 11 s.
        assert!(
            limiter
                .admit("a", r, start + Duration::from_secs(10))
                .is_ok()
        );
        assert!(
            limiter
                .admit("a", r, start + Duration::from_secs(10))
                .is_err()
        );
        assert!(
            limiter
                .admit("a", r, start + Duration::from_secs(11))
                .is_ok()
        );
        // Another key has its own window.
        assert!(
            limiter
                .admit("b", r, start + Duration::from_secs(5))
                .is_ok()
        );
    }

    #[test]
    fn never_admits_more_than_the_limit_in_any_window() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        let r = rate(100, 1);
        let mut admitted = Vec::new();
        // A request every 0.1 ms for 5 s.
        for i in 0..50_000u64 {
            let at = start + Duration::from_micros(i * 100);
            if limiter.admit("k", r, at).is_ok() {
                admitted.push(at);
            }
        }
        for (i, at) in admitted.iter().enumerate() {
            let within = admitted[i..]
                .iter()
                .take_while(|t| **t < *at + Duration::from_secs(1))
                .count();
            assert!(within <= 100, "{within} admitted in one window");
        }
        // And refuses little more than it must: 5 windows' worth, 1% off.
        assert!(admitted.len() >= 495, "{}", admitted.len());
    }

    #[test]
    fn a_cancel_gives_back_that_admission() {
        let limiter = RateLimiter::default();
        let now = Instant::now();
        let r = rate(1, 60);
        let first = limiter.admit("a", r, now).unwrap();
        assert!(limiter.admit("a", r, now).is_err());
        limiter.cancel(first);
        limiter.commit(limiter.admit("a", r, now).unwrap());
        assert!(limiter.admit("a", r, now).is_err());
    }

    /// Issue 24's case: of two requests of a 2/10s key in flight, the
    /// earlier fails (503). Giving back the later one's place instead
    /// left the earlier's at 0 s, so that two more passed at 10 s, three
    /// VALID answers within the window from 5 s.
    #[test]
    fn a_cancel_never_frees_a_later_admission() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        let r = rate(2, 10);
        let failed = limiter.admit("a", r, start).unwrap();
        let valid = limiter
            .admit("a", r, start + Duration::from_secs(5))
            .unwrap();
        limiter.cancel(failed);
        limiter.commit(valid);
        let at = start + Duration::from_secs(10);
        limiter.commit(limiter.admit("a", r, at).unwrap());
        assert!(limiter.admit("a", r, at).is_err(), "3 VALID within 10 s");
    }
    #[test]
    fn idle_keys_are_forgotten() {
        let limiter = RateLimiter::default();
        let now = Instant::now();
        limiter.commit(limiter.admit("a", rate(1, 1), now).unwrap());
        let stale = limiter.admit("b", rate(1, 60), now).unwrap();
        limiter.forget_idle(now + Duration::from_secs(2));
        assert_eq!(
            limiter
                .state
                .lock()
                .unwrap()
                .logs
                .keys()
                .collect::<Vec<_>>(),
            ["b"]
        );
        // An admission whose key was forgotten and admitted again names
        // its own entry, never the new one's.
        limiter.forget_idle(now + Duration::from_secs(61));
        let later = now + Duration::from_secs(61);
        limiter.commit(limiter.admit("b", rate(1, 60), later).unwrap());
        limiter.cancel(stale);
        assert!(limiter.admit("b", rate(1, 60), later).is_err());
    }

    /// Any interleaving of admissions, commits and cancels, of several
    /// requests in flight at once: never more than the limit committed
    /// plus pending in any window (issue 24; the fleet-wide limiter is to
    /// be held to the same).
    mod interleavings {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Step {
            /// A request arrives, this many milliseconds after the last step.
            Admit(u32),
            /// The `n`th request still in flight (modulo their number) is VALID.
            Commit(usize),
            /// It is not VALID after all.
            Cancel(usize),
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                (0u32..1500).prop_map(Step::Admit),
                any::<usize>().prop_map(Step::Commit),
                any::<usize>().prop_map(Step::Cancel),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]
            #[test]
            fn never_more_than_the_limit_in_any_window(
                limit in 1u32..6,
                per_seconds in 1u32..4,
                steps in proptest::collection::vec(step(), 1..200),
            ) {
                let limiter = RateLimiter::default();
                let r = rate(limit, per_seconds);
                let window = Duration::from_secs(u64::from(per_seconds));
                let mut now = Instant::now();
                let mut in_flight: Vec<(Admission, Instant)> = Vec::new();
                // When each counted answer (committed or pending) was admitted.
                let mut counted: Vec<Instant> = Vec::new();
                let mut committed: Vec<Instant> = Vec::new();
                for step in steps {
                    match step {
                        Step::Admit(ms) => {
                            now += Duration::from_millis(u64::from(ms));
                            if let Ok(admission) = limiter.admit("k", r, now) {
                                in_flight.push((admission, now));
                            }
                        }
                        Step::Commit(n) if !in_flight.is_empty() => {
                            let (admission, at) = in_flight.remove(n % in_flight.len());
                            limiter.commit(admission);
                            committed.push(at);
                        }
                        Step::Cancel(n) if !in_flight.is_empty() => {
                            let (admission, _) = in_flight.remove(n % in_flight.len());
                            limiter.cancel(admission);
                        }
                        _ => {}
                    }
                    counted.clear();
                    counted.extend(committed.iter().copied());
                    counted.extend(in_flight.iter().map(|(_, at)| *at));
                    counted.sort();
                    for (i, start) in counted.iter().enumerate() {
                        let within = counted[i..].iter().take_while(|t| **t < *start + window).count();
                        prop_assert!(
                            within <= limit as usize,
                            "{within} answers within one window of a limit of {limit}"
                        );
                    }
                }
            }
        }
    }
}

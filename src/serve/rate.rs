//! Rate limits (SPEC §8): each key's VALID answers counted in a sliding
//! window, per `serve` process.
//!
//! A log of admissions per key, exact in what it admits: never more than
//! `limit` answers in any window of `per_seconds`. Admissions close
//! together share one entry (at most `ENTRIES` a key, so memory does not
//! grow with the limit); an entry leaves the window when its latest
//! admission does, so a key may be refused up to 1/`ENTRIES` of a window
//! early, never admitted early.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::RateLimit;

/// Entries a key's log keeps at most: the window in this many slices.
const ENTRIES: u32 = 1024;

#[derive(Default)]
pub struct RateLimiter {
    logs: Mutex<HashMap<String, Log>>,
}

#[derive(Default)]
struct Log {
    entries: VecDeque<Entry>,
    /// Admissions in `entries`.
    count: u64,
    /// The window of the key's limit when last admitted.
    window: Duration,
}

struct Entry {
    first: Instant,
    last: Instant,
    count: u64,
}

impl RateLimiter {
    /// Admits one answer for key `id` at `now`, or says how long until its
    /// window has room for one.
    pub fn admit(&self, id: &str, rate: RateLimit, now: Instant) -> Result<(), Duration> {
        let window = Duration::from_secs(u64::from(rate.per_seconds.max(1)));
        let slice = window / ENTRIES;
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
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
        match log.entries.back_mut() {
            Some(back) if now.saturating_duration_since(back.first) < slice => {
                back.last = back.last.max(now);
                back.count += 1;
            }
            _ => log.entries.push_back(Entry {
                first: now,
                last: now,
                count: 1,
            }),
        }
        Ok(())
    }

    /// Takes back the latest admission of `id`: its answer turned out not
    /// VALID after all (no use left, or the store failed).
    pub fn release(&self, id: &str) {
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(log) = logs.get_mut(id) else {
            return;
        };
        if let Some(back) = log.entries.back_mut() {
            back.count -= 1;
            log.count -= 1;
            if back.count == 0 {
                log.entries.pop_back();
            }
        }
    }

    /// Forgets the keys whose window holds no admission: memory for the
    /// keys in use only.
    pub fn forget_idle(&self, now: Instant) {
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        logs.retain(|_, log| {
            log.entries
                .back()
                .is_some_and(|e| e.last + log.window > now)
        });
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
    fn a_release_gives_the_admission_back() {
        let limiter = RateLimiter::default();
        let now = Instant::now();
        let r = rate(1, 60);
        assert!(limiter.admit("a", r, now).is_ok());
        assert!(limiter.admit("a", r, now).is_err());
        limiter.release("a");
        assert!(limiter.admit("a", r, now).is_ok());
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let limiter = RateLimiter::default();
        let now = Instant::now();
        limiter.admit("a", rate(1, 1), now).unwrap();
        limiter.admit("b", rate(1, 60), now).unwrap();
        limiter.forget_idle(now + Duration::from_secs(2));
        let logs = limiter.logs.lock().unwrap();
        assert_eq!(logs.keys().collect::<Vec<_>>(), ["b"]);
    }
}

//! The engine's leases of fleet-wide rate limits (docs/src/fleet-limits.md):
//! asked for by a request that found none with room (`lease_now`, on its
//! store thread), renewed ahead of need and given back by the renewer
//! (`renew`, on a connection of its own), and all given back at a stop.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::rate::ledger::LeaseAsk;

use super::{BUSY_TIMEOUT, Engine, SPEND_TIMEOUT, busy};

/// How often the renewer looks for leases to renew or give back.
pub const RENEW_EVERY: Duration = Duration::from_millis(20);

impl Engine {
    /// Asks the store for leases of `subjects`, for a request on slot `i`
    /// that needs one of each. When another ask for one of them is on its
    /// way, waits a moment for it instead; past `deadline`, the store is
    /// busy (503).
    pub(super) fn lease_now(&self, i: usize, subjects: &[String], deadline: Instant) -> Result<()> {
        let now = Instant::now();
        let asks: Vec<LeaseAsk> = subjects
            .iter()
            .filter_map(|s| self.rate.ask_now(s, now))
            .collect();
        if asks.is_empty() {
            if now >= deadline {
                return Err(busy());
            }
            std::thread::sleep(Duration::from_millis(1));
            return Ok(());
        }
        self.ask_store(i, &asks)
    }

    /// Renews the leases running low and gives back those closed, in one
    /// store call on the renewer's slot.
    pub fn renew(&self) -> Result<()> {
        let asks = self.rate.asks(Instant::now());
        if asks.is_empty() {
            return Ok(());
        }
        self.ask_store(self.renewer_slot(), &asks)
    }

    /// Gives back every lease held, at a graceful stop: what it did not use
    /// is free for the rest of the fleet at once, not a window later.
    pub fn give_back_leases(&self) -> Result<()> {
        let asks = self.rate.give_back_all();
        if asks.is_empty() {
            return Ok(());
        }
        self.ask_store(self.renewer_slot(), &asks)
    }

    fn renewer_slot(&self) -> usize {
        self.slots.len() - 2
    }

    fn ask_store(&self, i: usize, asks: &[LeaseAsk]) -> Result<()> {
        let sent = Instant::now();
        let answers = self.on_slot(i, |store| {
            // A write, as a spend: it waits for the lock as long.
            store.set_busy_timeout(SPEND_TIMEOUT)?;
            let answers = store.lease(asks);
            let _ = store.set_busy_timeout(BUSY_TIMEOUT);
            answers
        });
        self.metrics.lease_calls.fetch_add(1, Relaxed);
        self.rate
            .answered(asks, answers.as_deref().ok(), sent, Instant::now());
        answers.map(|_| ())
    }
}

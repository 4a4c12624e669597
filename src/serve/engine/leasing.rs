//! The engine's leases of fleet-wide rate limits (docs/src/fleet-limits.md):
//! asked for by requests that found none with room, many in one store call
//! (`want_leases` from the cache's path, then `send_wanted` on a store
//! thread) or by a store thread for its own request (`lease_now`), renewed
//! ahead of need and given back by the renewer (`renew`, on a connection
//! of its own), and all given back at a stop.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::error::Result;
use crate::rate::ledger::LeaseAsk;

use super::{BUSY_TIMEOUT, Engine, SPEND_TIMEOUT, busy};

/// Why `verify_cached` could not answer from the cache.
#[derive(Debug)]
pub enum Uncached {
    /// A key is not in the cache, or has a limit of uses.
    NotCached,
    /// The leases of these subjects have no room: ask for them.
    NeedsLease(Vec<String>),
}

/// What `verify_on_slot` answered.
#[derive(Debug)]
pub enum OnSlot {
    Verdicts(Vec<crate::verify::Verdict>),
    /// Handed back: the keys are in the cache now, and these subjects'
    /// leases have no room.
    NeedsLease(Vec<String>),
}

/// The asks of requests waiting for leases, sent together by the next
/// store thread free (`send_wanted`), and the requests to wake after.
#[derive(Default)]
pub struct Wanted {
    asks: Vec<LeaseAsk>,
    waiting: Vec<oneshot::Sender<()>>,
}

/// How often the renewer looks for leases to renew or give back.
pub const RENEW_EVERY: Duration = Duration::from_millis(20);

impl Engine {
    /// Queues the asks for leases of `subjects` (none for a subject whose
    /// ask is on its way already); the answer is ready when a store thread
    /// has sent the queue (`send_wanted`). So a thousand keys' first
    /// requests take a few store calls, not a thousand.
    pub fn want_leases(&self, subjects: &[String]) -> oneshot::Receiver<()> {
        let (wake, woken) = oneshot::channel();
        let mut wanted = self.queue_asks(subjects);
        wanted.waiting.push(wake);
        woken
    }

    fn queue_asks(&self, subjects: &[String]) -> std::sync::MutexGuard<'_, Wanted> {
        let now = Instant::now();
        let asks: Vec<LeaseAsk> = subjects
            .iter()
            .filter_map(|s| self.rate.ask_now(s, now))
            .collect();
        let mut wanted = self.wanted.lock().unwrap_or_else(|e| e.into_inner());
        wanted.asks.extend(asks);
        wanted
    }

    /// Sends every queued ask in one store call on slot `i`, then wakes
    /// the requests that waited for them; `None` when none was queued. A
    /// failed call leaves their subjects without a lease: they ask again.
    pub fn send_wanted(&self, i: usize) -> Option<Result<()>> {
        let Wanted { asks, waiting } =
            std::mem::take(&mut *self.wanted.lock().unwrap_or_else(|e| e.into_inner()));
        let sent = (!asks.is_empty()).then(|| self.ask_store(i, &asks));
        for wake in waiting {
            let _ = wake.send(());
        }
        sent
    }

    /// Asks the store for leases of `subjects`, for a request on slot `i`
    /// that needs one of each, with every ask queued by others. When the
    /// asks for them are on their way already, waits a moment instead;
    /// past `deadline`, the store is busy (503).
    pub(super) fn lease_now(&self, i: usize, subjects: &[String], deadline: Instant) -> Result<()> {
        drop(self.queue_asks(subjects));
        match self.send_wanted(i) {
            Some(sent) => sent,
            None if Instant::now() >= deadline => Err(busy()),
            None => {
                std::thread::sleep(Duration::from_millis(1));
                Ok(())
            }
        }
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

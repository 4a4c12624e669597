//! The verification core of `serve`: synchronous, on store connections,
//! through the same library code as `keysmith verify`: the verdict, rate
//! limits and uses included, is `verify::judge_rated`'s; this engine only
//! supplies what it is judged from (a store connection or the cache) and
//! the rate limiter, and keeps the uses it counted until they are written.
//!
//! - this file: the engine, its store connections (`on_slot`) and the
//!   entry points (`verify_cached`, `verify_on_slot`, `health`);
//! - `freshness.rs`: tickets and checks, so that the cache is never older
//!   than a request, and a store replaced at its location is followed;
//! - `cache.rs`: the credentials read, by key id;
//! - `pending.rs`: uses counted in memory, and the flusher's `flush`;
//! - `leasing.rs`: the leases of fleet-wide rate limits, asked for,
//!   renewed and given back.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::Duration;

use crate::error::{Result, StoreFault};
use crate::key_format::ParsedKey;
use crate::model::Timestamp;
use crate::rate::leases::Leases;
use crate::store::{self, Location, OpenMode, Store};
use crate::verify::{self, NeedsLease, Required, Verdict};

use super::metrics::Metrics;

mod cache;
mod freshness;
mod leasing;
mod pending;

pub use freshness::busy;
pub use leasing::{OnSlot, RENEW_EVERY, Uncached};

use cache::Cache;
use freshness::Home;
use leasing::Wanted;
use pending::Pending;

/// How long a request of `serve` waits for another process's lock on the
/// store (SQLite's busy timeout) before it is answered 503 (the CLI waits
/// 30 s).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a spend of uses waits for the write lock. Longer: it cannot be
/// answered without the lock, and writers of several processes spending
/// one key's uses take it in turn (docs/src/serve.md, "Faults"); on a
/// loaded machine a turn can come later than a second, and a 503 then
/// costs the client more than the wait.
pub const SPEND_TIMEOUT: Duration = Duration::from_secs(5);
/// How soon a check is tried again after one found the store busy.
pub const RETRY: Duration = Duration::from_millis(2);

pub struct Engine {
    location: Location,
    /// Whether the store has a change counter, and so a cache.
    cached: bool,
    /// Whether checks run on the caller's thread (see `checks_inline`).
    inline_checks: bool,
    /// Each verification thread's connection, then the flusher's (see
    /// `on_slot`).
    slots: Vec<Mutex<Option<Box<dyn Store>>>>,
    home: Mutex<Home>,
    checks_started: AtomicU64,
    /// One more than the number of the latest check that succeeded, set
    /// once its cache work is done: `is_fresh` reads it without the lock.
    fresh_upto: AtomicU64,
    cache: RwLock<Cache>,
    uses: Mutex<Pending>,
    rate: Leases,
    wanted: Mutex<Wanted>,
    pub metrics: Metrics,
}

impl Engine {
    /// An engine over `location`, with `home` (already open there) as its
    /// home connection, for `threads` verification threads (and the
    /// renewer of leases, and the flusher, whose slot is the last).
    pub fn new(location: Location, mut home: Box<dyn Store>, threads: usize) -> Result<Engine> {
        home.set_busy_timeout(Duration::ZERO)?;
        let version = home.change_counter()?;
        Ok(Engine {
            inline_checks: location.checks_never_wait(),
            location,
            cached: version.is_some(),
            slots: (0..threads.max(1) + 2).map(|_| Mutex::new(None)).collect(),
            home: Mutex::new(Home::new(home, version)),
            checks_started: AtomicU64::new(0),
            fresh_upto: AtomicU64::new(0),
            cache: RwLock::new(Cache::default()),
            uses: Mutex::new(Pending::default()),
            rate: Leases::default(),
            wanted: Mutex::new(Wanted::default()),
            metrics: Metrics::default(),
        })
    }

    /// Runs `work` on slot `i`'s connection, opening it when there is
    /// none; a connection that failed is dropped, to be opened again by the
    /// next job (how `serve` recovers when the store comes back). The check
    /// (`try_fresh`) empties every slot when the store at the location is
    /// another one.
    pub fn on_slot<T>(
        &self,
        i: usize,
        work: impl FnOnce(&mut dyn Store) -> Result<T>,
    ) -> Result<T> {
        let mut slot = self.slot(i);
        if slot.is_none() {
            *slot = Some(self.open_store()?);
        }
        let result = work(slot.as_mut().expect("just opened").as_mut());
        // A busy store's connection is sound: another process holds the lock.
        if result
            .as_ref()
            .is_err_and(|e| e.store_fault().is_some_and(|f| f != StoreFault::Busy))
        {
            *slot = None;
        }
        result
    }

    fn slot(&self, i: usize) -> MutexGuard<'_, Option<Box<dyn Store>>> {
        self.slots[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn open_store(&self) -> Result<Box<dyn Store>> {
        Ok(store::open_with_busy_timeout(&self.location, OpenMode::NoCreate, BUSY_TIMEOUT)?.store)
    }

    /// Judges `keys` from the cache alone, when it holds them all (never a
    /// key with a limit of uses: see `cache.rs`) and their rate limits'
    /// leases have room; else says why not: then the request goes to a
    /// store thread (`verify_on_slot`), or waits for its leases
    /// (`want_leases`) and tries again. For a request whose check
    /// (`try_fresh`) succeeded. Counts a use of each VALID key.
    pub fn verify_cached(
        &self,
        keys: &[&ParsedKey],
        required: &Required,
        now: Timestamp,
    ) -> std::result::Result<Vec<Verdict>, Uncached> {
        let stored = self.all_cached(keys).ok_or(Uncached::NotCached)?;
        let judged = verify::judge_rated(keys, stored, required, now, &self.rate)
            .map_err(|NeedsLease(subjects)| Uncached::NeedsLease(subjects))?;
        self.count_uses(judged.counted_uses(), now);
        Ok(self.counted(judged.settle_cached(&self.rate)))
    }

    /// Judges `keys` for a request whose check (`try_fresh`) succeeded, on
    /// slot `i`'s connection (opened no earlier than the check): spends a
    /// use of each VALID key with a limit of uses, there and then, and
    /// counts one of each other VALID key (written by `flush`).
    ///
    /// With `hand_back`, a request whose keys are all in the cache once
    /// read and whose leases have no room is handed back
    /// (`OnSlot::NeedsLease`), to ask for them with other requests'
    /// (`want_leases`) instead of holding this thread for a store call of
    /// its own.
    ///
    /// A connection the store ended (a PostgreSQL session terminated, a
    /// pooler restarted, an idle timeout) fails its first read: that read
    /// is asked once more on a new connection rather than answered 503. A
    /// spend is never asked twice: its commit's outcome is unknown.
    pub fn verify_on_slot(
        &self,
        i: usize,
        keys: &[&ParsedKey],
        required: &Required,
        now: Timestamp,
        hand_back: bool,
    ) -> Result<OnSlot> {
        let read = || self.on_slot(i, |store| self.credentials(store, keys));
        let stored = match read() {
            Err(e) if e.store_fault().is_some_and(|f| f != StoreFault::Busy) => read()?,
            stored => stored?,
        };
        let deadline = std::time::Instant::now() + SPEND_TIMEOUT;
        let judged = loop {
            match verify::judge_rated(keys, stored.clone(), required, now, &self.rate) {
                Ok(judged) => break judged,
                Err(NeedsLease(subjects)) if hand_back && self.all_cached(keys).is_some() => {
                    return Ok(OnSlot::NeedsLease(subjects));
                }
                Err(NeedsLease(subjects)) => self.lease_now(i, &subjects, deadline)?,
            }
        };
        self.count_uses(judged.counted_uses(), now);
        let spend = |verdicts: &mut [Verdict]| {
            self.on_slot(i, |store| {
                store.set_busy_timeout(SPEND_TIMEOUT)?;
                let spent = verify::spend(store, verdicts, now);
                // Only how long the next read may wait: a failure here must
                // not turn a spend made into a 503.
                let _ = store.set_busy_timeout(BUSY_TIMEOUT);
                spent
            })
        };
        let (verdicts, spent) = judged.spend_and_settle(spend, &self.rate)?;
        self.metrics.flushed_uses.fetch_add(spent, SeqCst);
        Ok(OnSlot::Verdicts(self.counted(verdicts)))
    }

    /// Counts `verdicts` in the metrics here, where they are decided, not
    /// where they are answered: a client gone before its answer still had
    /// its uses spent, and `keysmith_verifications_total{code="VALID"}`
    /// must match what the store lost.
    fn counted(&self, verdicts: Vec<Verdict>) -> Vec<Verdict> {
        for v in &verdicts {
            self.metrics.verified(v.code);
        }
        verdicts
    }

    /// Whether the store answers: after a check (`try_fresh`) on the home
    /// connection, a read on `store`.
    pub fn health(&self, store: &mut dyn Store) -> Result<()> {
        store.credentials(&["healthcheck0"], &mut |_, _| Ok(()))
    }
}

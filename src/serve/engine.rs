//! The verification core of `serve`: synchronous, on store connections,
//! through the same library code as `keysmith verify` (`verify::judge` over
//! `Store::credentials`), with a cache that is never older than a request.
//!
//! Freshness. Every request takes a ticket when it arrives (`ticket`): the
//! number of freshness checks started so far. Before it is answered from
//! the cache, a check must have *started* after it arrived (`try_fresh`): a
//! read of the store's change counter (`Store::change_counter`) on the home
//! connection, a row every change of keys, by any process on any host, adds
//! one to in its own transaction (uses do not, so serve's own writes leave
//! the cache alone). Checks run one at a time; requests that arrived before
//! a check started share it (a request that waited on the lock finds the
//! check done for it). When the number changed, the cache is emptied and
//! its generation bumped; a filler inserts what it read only into the
//! generation it started reading in. So an entry was read after the last
//! change the checks saw, and the latest check, made after the request
//! arrived, saw no later change: what the request is answered from is the
//! store's state at or after its arrival.
//!
//! A check never waits for the store: the home connection has no busy
//! timeout, so where the store answers on this machine
//! (`Location::checks_never_wait`; SQLite: a `stat` and a read of one
//! cached page) a check takes microseconds and may run on the HTTP
//! runtime's threads, and a cached answer needs no hop to a store thread. A
//! store busy past that (a lock that blocks readers) makes the check report
//! "not yet"; the request tries again a little later, up to `BUSY_TIMEOUT`,
//! and then gets a 503. Busy checks are shared too: within `RETRY` of one,
//! no other is made. Any other failure (the store gone, damaged) is shared
//! the way a success is: a request that arrived before the check started
//! gets its 503 without trying again. A failed check proves nothing about
//! freshness, so nothing is answered from the cache on its account.
//!
//! A check also asks the home connection whether it is still on the store
//! now at its location (`Store::still_at_location`; SQLite: whether the
//! file at the path is the one it opened, device and inode, one `stat`;
//! PostgreSQL: always): a store replaced by another file (a backup
//! restored with `mv`, say) would otherwise go on being read, through
//! connections open on the old file, and no change made to the new one
//! would ever be seen. When it is not, every connection is closed and
//! opened again, and the cache is emptied. All of them are closed, under
//! every slot's lock at once (a slot still busy makes the check "not
//! yet"), before any is opened again: SQLite, closing the last connection
//! to a file, checkpoints and deletes the `-wal` by its name, which by then
//! is the new file's; so none may be open on the new store while one to
//! the old is still to close. A home connection that failed is kept, as
//! the witness of which store the connections are on, until a new one is
//! open on the same store (a store replaced meanwhile is found by asking
//! it). A store that is not there fails the check (503) until it is back.
//! A request is checked before a store thread takes its connection for the
//! read, so a read is on a connection at least as new as the check.
//! (Damage written into the open file in place is seen only when SQLite
//! reads a damaged page it has not cached: serve is then 503 like any
//! reader; pages it holds may go on answering until a change.)
//!
//! Uses are written by the flusher on a connection of its own (the last
//! slot), never on the home connection: a write waits for the store's write
//! lock and its `fsync`, and every request needing a check would wait with
//! it. The flusher makes a check first, like a read, so that it writes to
//! the store the checks see. A backend with no change counter has no cache:
//! each request reads through. A backend whose check is a network round
//! trip (PostgreSQL) has it made on a store thread, never on the runtime's
//! (`checks_inline`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Result, StoreFault};
use crate::key_format::ParsedKey;
use crate::model::{Credential, Timestamp};
use crate::store::{self, Location, OpenMode, Store};
use crate::verify::{self, Verdict};

use super::metrics::Metrics;
use super::rate::{Admission, RateLimiter};

/// The cache holds at most this many ids (found or not); past it, it starts
/// again empty. About 150 bytes an entry.
const CACHE_LIMIT: usize = 100_000;

/// How long a request of `serve` waits for another process's lock on the
/// store (SQLite's busy timeout) before it is answered 503 (the CLI waits
/// 30 s).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(1);
/// Keys whose uses one flush transaction writes (see `flush`): a fraction
/// of a millisecond of work; more when a flush would take over
/// `FLUSH_TRANSACTIONS` commits.
const FLUSH_CHUNK: usize = 100;
const FLUSH_TRANSACTIONS: usize = 64;
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
    rate: RateLimiter,
    pub metrics: Metrics,
}

/// The connection that checks freshness.
struct Home {
    store: Option<Box<dyn Store>>,
    /// The change counter as last read on `store`.
    version: Option<u64>,
    /// The home connection that last failed, kept only to ask it whether
    /// it (and so the other connections) is still on the store at the
    /// location, until a new home connection is open (see the module's
    /// note). Never set while `store` is.
    retired: Option<Box<dyn Store>>,
    /// One more than the number of the latest completed check.
    done: u64,
    /// How that check failed, if it did, and when.
    failed: Option<(StoreFault, String, Instant)>,
}

#[derive(Default)]
struct Cache {
    generation: u64,
    map: HashMap<String, Option<Credential>>,
}

/// Uses counted since the last flush: one entry a key, however many
/// requests, so memory is bounded by the keys used, not the load.
#[derive(Default)]
struct Pending {
    counts: HashMap<String, u64>,
    /// When the latest pending use happened.
    at: Timestamp,
}

/// What a request asks of each key, once parsed.
pub struct Question<'a> {
    pub service: Option<&'a str>,
    pub scopes: &'a [String],
}

impl Engine {
    /// An engine over `location`, with `home` (already open there) as its
    /// home connection, for `threads` verification threads (and the
    /// flusher, whose slot is the last).
    pub fn new(location: Location, mut home: Box<dyn Store>, threads: usize) -> Result<Engine> {
        home.set_busy_timeout(Duration::ZERO)?;
        let version = home.change_counter()?;
        Ok(Engine {
            inline_checks: location.checks_never_wait(),
            location,
            cached: version.is_some(),
            slots: (0..threads.max(1) + 1).map(|_| Mutex::new(None)).collect(),
            home: Mutex::new(Home {
                store: Some(home),
                version,
                retired: None,
                done: 0,
                failed: None,
            }),
            checks_started: AtomicU64::new(0),
            fresh_upto: AtomicU64::new(0),
            cache: RwLock::new(Cache::default()),
            uses: Mutex::new(Pending::default()),
            rate: RateLimiter::default(),
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

    /// Taken when a request arrives: see the module's note.
    pub fn ticket(&self) -> u64 {
        self.checks_started.load(SeqCst)
    }

    fn home(&self) -> MutexGuard<'_, Home> {
        self.home.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether checks are made on the caller's thread, the HTTP runtime's
    /// (they never wait: `Location::checks_never_wait`), or must be sent to
    /// a store thread.
    pub fn checks_inline(&self) -> bool {
        self.inline_checks
    }

    /// Whether a check that started after the request holding `ticket`
    /// arrived has succeeded, and was the latest to end: no lock, no check.
    pub fn is_fresh(&self, ticket: u64) -> bool {
        !self.cached || self.fresh_upto.load(SeqCst) > ticket
    }

    /// Whether a freshness check that started after the request holding
    /// `ticket` arrived has succeeded, making one if none has: `Ok(false)`
    /// when the store is busy (try again after `RETRY`); the error of a
    /// check that failed otherwise. Emptys the cache when the store changed
    /// since the check before. Always true for a store without a cache.
    pub fn try_fresh(&self, ticket: u64) -> Result<bool> {
        if !self.cached {
            return Ok(true);
        }
        let mut home = self.home();
        if home.done > ticket {
            match &home.failed {
                None => return Ok(true),
                Some((StoreFault::Busy, _, at)) if at.elapsed() < RETRY => return Ok(false),
                Some((StoreFault::Busy, _, _)) => {}
                Some((fault, message, _)) => return Err(Error::store(*fault, message.clone())),
            }
        }
        let number = self.checks_started.fetch_add(1, SeqCst);
        home.done = number + 1;
        let had_connection = home.store.is_some();
        let mut checked = self.check(&mut home);
        // A connection the store ended (see `verify_on_slot`) is let go and
        // the check made once more on a new one.
        if had_connection
            && let Err(e) = &checked
            && e.store_fault().is_some_and(|f| f != StoreFault::Busy)
        {
            retire(&mut home);
            home.version = None;
            checked = self.check(&mut home);
        }
        let version = match checked {
            Ok(v) => v,
            Err(e) => {
                let fault = e.store_fault().unwrap_or(StoreFault::Unavailable);
                home.failed = Some((fault, e.to_string(), Instant::now()));
                drop_unless_busy(&mut home, &e);
                self.clear_cache();
                return if fault == StoreFault::Busy {
                    Ok(false)
                } else {
                    Err(e)
                };
            }
        };
        home.failed = None;
        if version.is_none() || version != home.version {
            home.version = version;
            self.clear_cache();
        }
        self.fresh_upto.store(home.done, SeqCst);
        Ok(true)
    }

    /// One read of the change counter on the home connection, to the store
    /// now at the location.
    fn check(&self, home: &mut Home) -> Result<Option<u64>> {
        self.check_place(home)?;
        self.home_store(home)?.change_counter()
    }

    /// `try_fresh` again and again on this thread, until `deadline`: for
    /// the flusher and shutdown, which are no HTTP runtime's threads.
    pub fn wait_fresh(&self, deadline: Instant) -> Result<()> {
        let ticket = self.ticket();
        loop {
            if self.try_fresh(ticket)? {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(busy());
            }
            std::thread::sleep(RETRY);
        }
    }

    /// Whether the connections are on the store now at the location, asked
    /// of the home connection (or the one that last failed); when they are
    /// not, drops every connection (see the module's note).
    fn check_place(&self, home: &mut Home) -> Result<()> {
        let Some(asked) = home.store.as_mut().or(home.retired.as_mut()) else {
            return Ok(());
        };
        if !asked.still_at_location()? {
            // Every slot held at once: see the module's note. One in use
            // (a read waiting on a busy store): try again in a moment.
            let mut slots = Vec::with_capacity(self.slots.len());
            for slot in &self.slots {
                match slot.try_lock() {
                    Ok(held) => slots.push(held),
                    Err(std::sync::TryLockError::Poisoned(e)) => slots.push(e.into_inner()),
                    Err(std::sync::TryLockError::WouldBlock) => return Err(busy()),
                }
            }
            for slot in &mut slots {
                **slot = None;
            }
            home.store = None;
            home.retired = None;
            home.version = None;
            self.clear_cache();
        }
        Ok(())
    }

    fn home_store<'h>(&self, home: &'h mut Home) -> Result<&'h mut Box<dyn Store>> {
        if home.store.is_none() {
            // The new connection learns which store it is on as it opens:
            // one replaced in between is found by the next check, which
            // opens again.
            let opened =
                store::open_with_busy_timeout(&self.location, OpenMode::NoCreate, Duration::ZERO)?;
            // Only now is the failed one let go: it was found on the store
            // at the location just before, so the new one is on the same.
            home.retired = None;
            home.store = Some(opened.store);
            // A new connection's counter is not comparable with the old one's.
            home.version = None;
        }
        Ok(home.store.as_mut().expect("just opened"))
    }

    fn clear_cache(&self) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        cache.generation += 1;
        cache.map.clear();
    }

    /// The stored credential of each key, fresh for a request whose
    /// check (`try_fresh`) succeeded.
    fn credentials(
        &self,
        store: &mut dyn Store,
        keys: &[&ParsedKey],
    ) -> Result<Vec<Option<Credential>>> {
        let mut found: Vec<Option<Credential>> = vec![None; keys.len()];
        if !self.cached {
            let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
            store.credentials(&ids, &mut |i, c| {
                found[i] = c;
                Ok(())
            })?;
            return Ok(found);
        }
        let mut missing: Vec<usize> = Vec::new();
        let generation = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            for (i, key) in keys.iter().enumerate() {
                match cache.map.get(&key.id) {
                    Some(entry) => found[i] = entry.clone(),
                    None => missing.push(i),
                }
            }
            cache.generation
        };
        if missing.is_empty() {
            return Ok(found);
        }
        // Read after the generation was taken: see the module's note.
        let ids: Vec<&str> = missing.iter().map(|&i| keys[i].id.as_str()).collect();
        store.credentials(&ids, &mut |j, c| {
            found[missing[j]] = c;
            Ok(())
        })?;
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.generation == generation {
            if cache.map.len() + missing.len() > CACHE_LIMIT {
                cache.map.clear();
            }
            for &i in &missing {
                // A key with a limit of uses is read through every time:
                // its uses left change with every use, and uses do not
                // count as changes (see the module's note).
                if found[i]
                    .as_ref()
                    .is_some_and(|c| c.limits.remaining_uses.is_some())
                {
                    continue;
                }
                cache.map.insert(keys[i].id.clone(), found[i].clone());
            }
        }
        Ok(found)
    }

    /// Judges `keys` from the cache alone, when it holds them all (never a
    /// key with a limit of uses: see `credentials`); `None` sends the
    /// request to a store thread (`verify`). For a request whose check
    /// (`try_fresh`) succeeded. Counts a use of each VALID key.
    pub fn verify_cached(
        &self,
        keys: &[&ParsedKey],
        question: &Question<'_>,
        now: Timestamp,
    ) -> Option<Vec<Verdict>> {
        if !self.cached {
            return None;
        }
        let stored = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            keys.iter()
                .map(|k| cache.map.get(&k.id).cloned())
                .collect::<Option<Vec<_>>>()?
        };
        let (verdicts, admissions) = self.judge(keys, stored, question, now);
        // Read from the cache, no key here has a limit of uses: every
        // VALID answer is final.
        for admission in admissions.into_iter().flatten() {
            self.rate.commit(admission);
        }
        Some(verdicts)
    }

    /// Judges `keys` for a request whose check (`try_fresh`) succeeded, on
    /// slot `i`'s connection (opened no earlier than the check): spends a
    /// use of each VALID key with a limit of uses, there and then, and
    /// counts one of each other VALID key (written by `flush`).
    ///
    /// A connection the store ended (a PostgreSQL session terminated, a
    /// pooler restarted, an idle timeout) fails its first read: that read
    /// is asked once more on a new connection rather than answered 503. A
    /// spend is never asked twice: its commit's outcome is unknown.
    pub fn verify_on_slot(
        &self,
        i: usize,
        keys: &[&ParsedKey],
        question: &Question<'_>,
        now: Timestamp,
    ) -> Result<Vec<Verdict>> {
        let read = || self.on_slot(i, |store| self.credentials(store, keys));
        let stored = match read() {
            Err(e) if e.store_fault().is_some_and(|f| f != StoreFault::Busy) => read()?,
            stored => stored?,
        };
        let (mut verdicts, admissions) = self.judge(keys, stored, question, now);
        let spent = if verdicts.iter().any(Verdict::spends_a_use) {
            self.on_slot(i, |store| verify::spend(store, &mut verdicts, now))
        } else {
            Ok(0)
        };
        // Each reservation of the rate limit is settled by its own answer:
        // one that is not VALID after all gives back its place.
        for (verdict, admission) in verdicts.iter().zip(admissions) {
            let Some(admission) = admission else { continue };
            if spent.is_ok() && verdict.is_valid() {
                self.rate.commit(admission);
            } else {
                self.rate.cancel(admission);
            }
        }
        self.metrics.flushed_uses.fetch_add(spent?, SeqCst);
        Ok(verdicts)
    }

    /// Judges each key (`verify::judge`), then holds each VALID one to its
    /// rate limit, with the reservation that admitted it (to be committed
    /// or cancelled by the final answer), and counts a use of each VALID one
    /// without a limit of uses.
    fn judge(
        &self,
        keys: &[&ParsedKey],
        stored: Vec<Option<Credential>>,
        question: &Question<'_>,
        now: Timestamp,
    ) -> (Vec<Verdict>, Vec<Option<Admission>>) {
        let required = verify::Required {
            service: question.service,
            scopes: question.scopes,
        };
        let instant = Instant::now();
        let mut admissions = Vec::with_capacity(keys.len());
        let verdicts: Vec<Verdict> = keys
            .iter()
            .zip(stored)
            .map(|(key, stored)| {
                let mut verdict = verify::judge(key, stored, required, now);
                let rate = verdict.key.as_ref().and_then(|k| k.limits.rate);
                let mut admitted = None;
                if let (true, Some(rate)) = (verdict.is_valid(), rate) {
                    match self.rate.admit(&key.id, rate, instant) {
                        Ok(admission) => admitted = Some(admission),
                        Err(wait) => {
                            verdict.code = verify::Code::RateLimited;
                            verdict.retry_after = Some(wait);
                        }
                    }
                }
                admissions.push(admitted);
                verdict
            })
            .collect();
        let counted = |v: &Verdict| v.is_valid() && !v.spends_a_use();
        let valid = verdicts.iter().filter(|v| counted(v)).count();
        if valid > 0 {
            let mut uses = self.uses.lock().unwrap_or_else(|e| e.into_inner());
            for (key, verdict) in keys.iter().zip(&verdicts) {
                if !counted(verdict) {
                    continue;
                }
                match uses.counts.get_mut(&key.id) {
                    Some(n) => *n += 1,
                    None => {
                        uses.counts.insert(key.id.clone(), 1);
                    }
                }
            }
            uses.at = uses.at.max(now);
            self.metrics.pending_uses.fetch_add(valid as u64, SeqCst);
        }
        (verdicts, admissions)
    }

    /// Whether the store answers: after a check (`try_fresh`) on the home
    /// connection, a read on `store`.
    pub fn health(&self, store: &mut dyn Store) -> Result<()> {
        store.credentials(&["healthcheck0"], &mut |_, _| Ok(()))
    }

    /// Writes every pending use on the flusher's connection, waiting at
    /// most `wait` for a busy store; what could not be written stays
    /// pending for the next try. Returns how many were written.
    ///
    /// In transactions of `FLUSH_CHUNK` keys or so, with the CPU handed back
    /// between them: a scheduler lets a thread run for a few milliseconds
    /// once it has the core, however low its priority, and one statement
    /// for tens of thousands of keys would be such a stretch, seen as a
    /// pause by every request waiting for that core.
    pub fn flush(&self, wait: Duration) -> Result<u64> {
        self.rate.forget_idle(Instant::now());
        let Pending { counts, at } =
            std::mem::take(&mut *self.uses.lock().unwrap_or_else(|e| e.into_inner()));
        if counts.is_empty() {
            return Ok(0);
        }
        let mut uses: Vec<(String, u64)> = counts.into_iter().collect();
        let chunk_len = FLUSH_CHUNK.max(uses.len().div_ceil(FLUSH_TRANSACTIONS));
        let mut done = 0;
        let written = self.wait_fresh(Instant::now() + wait).and_then(|()| {
            self.on_slot(self.slots.len() - 1, |store| {
                store.set_busy_timeout(wait)?;
                let mut written = Ok(());
                for chunk in uses.chunks(chunk_len) {
                    let refs: Vec<(&str, u64)> =
                        chunk.iter().map(|(id, n)| (id.as_str(), *n)).collect();
                    written = store.record_use_counts(&refs, at);
                    if written.is_err() {
                        break;
                    }
                    done += chunk.len();
                    std::thread::yield_now();
                }
                let restored = store.set_busy_timeout(BUSY_TIMEOUT);
                written.and(restored)
            })
        });
        let left = uses.split_off(done.min(uses.len()));
        let n: u64 = uses.iter().map(|(_, n)| n).sum();
        self.metrics.pending_uses.fetch_sub(n, SeqCst);
        self.metrics.flushed_uses.fetch_add(n, SeqCst);
        if !left.is_empty() {
            let mut pending = self.uses.lock().unwrap_or_else(|e| e.into_inner());
            for (id, n) in left {
                *pending.counts.entry(id).or_default() += n;
            }
            pending.at = pending.at.max(at);
        }
        written.map(|()| n)
    }

    pub fn pending(&self) -> u64 {
        self.metrics.pending_uses.load(SeqCst)
    }
}

/// After a failure on the home connection: a busy store's connection is
/// kept (it is sound; another process holds the lock), any other is
/// retired, to be replaced by the next check (how `serve` recovers from a
/// store that went away or was replaced). A new connection's counter is
/// not comparable with the old one's.
fn drop_unless_busy(home: &mut Home, e: &Error) {
    if e.store_fault() != Some(StoreFault::Busy) {
        retire(home);
    }
    home.version = None;
}

/// Moves a failed home connection aside, kept only to answer
/// `still_at_location` until a new one is open (see the module's note).
fn retire(home: &mut Home) {
    if let Some(failed) = home.store.take() {
        home.retired = Some(failed);
    }
}

/// The 503 of a store busy past `BUSY_TIMEOUT`.
pub fn busy() -> Error {
    Error::store(
        StoreFault::Busy,
        "the store stayed busy; another process holds it",
    )
}

//! Freshness: the cache is never older than a request.
//!
//! Every request takes a ticket when it arrives (`ticket`): the
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
//! A backend with no change counter has no cache: each request reads
//! through. A backend whose check is a network round trip (PostgreSQL) has
//! it made on a store thread, never on the runtime's (`checks_inline`).

use std::sync::MutexGuard;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use crate::error::{Error, Result, StoreFault};
use crate::store::{self, OpenMode, Store};

use super::{Engine, RETRY};

/// The connection that checks freshness.
pub(super) struct Home {
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

impl Home {
    /// `store`, just open, whose change counter reads `version`.
    pub(super) fn new(store: Box<dyn Store>, version: Option<u64>) -> Home {
        Home {
            store: Some(store),
            version,
            retired: None,
            done: 0,
            failed: None,
        }
    }
}

impl Engine {
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

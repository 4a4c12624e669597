//! The verification core of `serve`: synchronous, on store connections,
//! through the same library code as `keysmith verify` (`verify::judge` over
//! `Store::credentials`), with a cache that is never older than a request.
//!
//! Freshness. Every request takes a ticket when it arrives (`ticket`): the
//! number of freshness checks started so far. Before it is answered from the
//! cache, a check must have *started* after it arrived (`ensure_fresh`): on
//! SQLite, `PRAGMA data_version` on the home connection, which changes
//! whenever any other connection, of any process, has committed. Checks run
//! one at a time; requests that arrived before a check started share it (a
//! request that waited on the lock finds the check done for it). When the
//! number changed, the cache is emptied and its generation bumped; a filler
//! inserts what it read only into the generation it started reading in. So
//! an entry was read after the last change the checks saw, and the latest
//! check, made after the request arrived, saw no later change: what the
//! request is answered from is the store's state at or after its arrival.
//!
//! A check that fails (the store locked past the busy timeout, gone,
//! damaged) is shared the same way: a request that arrived before it
//! started gets its error, a 503, without trying again; so a store locked
//! for a long time costs each waiting request at most one busy timeout
//! (`BUSY_TIMEOUT`), never a queue of them. A failed check proves nothing
//! about freshness, so nothing is answered from the cache on its account;
//! the next check that succeeds compares the counter as before.
//!
//! A check also makes sure the home connection is to the file now at the
//! store's path (SQLite: the device and inode, one `stat`): a store
//! replaced by another file (a backup restored with `mv`, say) would
//! otherwise go on being read, through connections open on the old inode,
//! and no change made to the new file would ever be seen. When the file
//! changed, every connection is closed and opened again, and the cache is
//! emptied. All of them are closed, under every verification thread's
//! slot lock at once, before any is opened again: SQLite, closing the last
//! connection to a file, checkpoints and deletes the `-wal` by its name,
//! which by then is the new file's; so none may be open on the new file
//! while one to the old is still to close. A missing file fails the check
//! (503) until the store is back. The pool makes the check before it takes
//! its connection for the read, so a read is on a connection at least as
//! new as the check. (Damage written into the open file in place is seen
//! only when SQLite reads a damaged page it has not cached: serve is then
//! 503 like any reader; pages it holds may go on answering until a change.)
//!
//! The home connection is also the one that writes serve's uses (the
//! flusher): its own commits leave its `data_version` as it is, so flushing
//! uses does not empty the cache. It must not hold the home lock while it
//! waits for the store's write lock (another process's transaction): it
//! tries the write with no busy wait at all, and when the store is busy it
//! lets go of the home lock, sleeps a little and tries again, up to its own
//! deadline. The home lock is held only while a write that already has the
//! store's write lock runs. That is still a write on the home connection,
//! so the reasoning above holds unchanged. A backend with no change counter
//! (PostgreSQL, for now) has no cache: each request reads through.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Result, StoreFault};
use crate::key::ParsedKey;
use crate::model::{Credential, Timestamp};
use crate::store::{self, Location, OpenMode, Store};
use crate::verify::{self, Verdict};

use super::metrics::Metrics;

/// The cache holds at most this many ids (found or not); past it, it starts
/// again empty. About 150 bytes an entry.
const CACHE_LIMIT: usize = 100_000;

/// How long a statement of `serve` waits for another process's lock on a
/// SQLite store before its request is answered 503 (the CLI waits 30 s).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the flusher retries a busy store between the home lock's
/// releases before it leaves the uses pending for the next interval.
const FLUSH_RETRY: Duration = Duration::from_millis(10);

pub struct Engine {
    location: Location,
    /// Whether the store has a change counter, and so a cache.
    cached: bool,
    /// A SQLite store's path, whose file is checked at each check.
    file: Option<PathBuf>,
    /// Each verification thread's connection (see `slot`).
    slots: Vec<Mutex<Option<Box<dyn Store>>>>,
    home: Mutex<Home>,
    checks_started: AtomicU64,
    cache: RwLock<Cache>,
    uses: Mutex<Pending>,
    pub metrics: Metrics,
}

/// The connection that checks freshness and writes uses.
struct Home {
    store: Option<Box<dyn Store>>,
    /// The change counter as last read on `store`.
    version: Option<u64>,
    /// The file `store` was opened on (device, inode), when a SQLite one.
    identity: Option<(u64, u64)>,
    /// One more than the number of the latest completed check.
    done: u64,
    /// How that check failed, if it did.
    failed: Option<(StoreFault, String)>,
}

#[derive(Default)]
struct Cache {
    generation: u64,
    map: HashMap<String, Option<Credential>>,
}

#[derive(Default)]
struct Pending {
    ids: Vec<String>,
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
    /// home connection, for `threads` verification threads.
    pub fn new(location: Location, mut home: Box<dyn Store>, threads: usize) -> Result<Engine> {
        home.set_busy_timeout(BUSY_TIMEOUT)?;
        let version = home.change_counter()?;
        let file = match &location {
            Location::Sqlite(path) => Some(path.clone()),
            Location::Postgres(_) => None,
        };
        // Taken after `home` opened: if the file was replaced in between,
        // the first check finds it changed and reopens (never the reverse).
        let identity = file.as_deref().and_then(|p| identity(p).ok());
        Ok(Engine {
            location,
            cached: version.is_some(),
            file,
            slots: (0..threads.max(1)).map(|_| Mutex::new(None)).collect(),
            home: Mutex::new(Home {
                store: Some(home),
                version,
                identity,
                done: 0,
                failed: None,
            }),
            checks_started: AtomicU64::new(0),
            cache: RwLock::new(Cache::default()),
            uses: Mutex::new(Pending::default()),
            metrics: Metrics::default(),
        })
    }

    /// Verification thread `i`'s connection: `None` until it opens one,
    /// and after a failure or a change of file.
    pub fn slot(&self, i: usize) -> MutexGuard<'_, Option<Box<dyn Store>>> {
        self.slots[i % self.slots.len()]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
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

    /// Makes sure a freshness check started after the request holding
    /// `ticket` arrived, emptying the cache if the store changed since the
    /// one before. Called before the request's connection is taken (see
    /// the module's note); a no-op for a store without a cache.
    pub fn ensure_fresh(&self, ticket: u64) -> Result<()> {
        if !self.cached {
            return Ok(());
        }
        let mut home = self.home();
        if home.done > ticket {
            return match &home.failed {
                None => Ok(()),
                Some((fault, message)) => Err(Error::store(*fault, message.clone())),
            };
        }
        let number = self.checks_started.fetch_add(1, SeqCst);
        home.done = number + 1;
        let checked = self
            .check_file(&mut home)
            .and_then(|()| self.home_store(&mut home))
            .and_then(|s| s.change_counter());
        let version = match checked {
            Ok(v) => v,
            Err(e) => {
                home.failed = e.store_fault().map(|f| (f, e.to_string()));
                if home.failed.is_none() {
                    home.failed = Some((StoreFault::Unavailable, e.to_string()));
                }
                drop_unless_busy(&mut home, &e);
                self.clear_cache();
                return Err(e);
            }
        };
        home.failed = None;
        if version.is_none() || version != home.version {
            home.version = version;
            self.clear_cache();
        }
        Ok(())
    }

    /// Whether the file at the store's path is the one `home` is open on;
    /// when it is another, drops every connection (see the module's note).
    fn check_file(&self, home: &mut Home) -> Result<()> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let now = identity(path)?;
        if home.identity != Some(now) {
            // Every slot held at once: see the module's note.
            let mut slots: Vec<_> = (0..self.slots.len()).map(|i| self.slot(i)).collect();
            for slot in &mut slots {
                **slot = None;
            }
            home.store = None;
            home.version = None;
            self.clear_cache();
        }
        Ok(())
    }

    fn home_store<'h>(&self, home: &'h mut Home) -> Result<&'h mut Box<dyn Store>> {
        if home.store.is_none() {
            // Before opening: a file replaced in between is found changed
            // by the next check, which opens again.
            home.identity = match &self.file {
                Some(path) => Some(identity(path)?),
                None => None,
            };
            home.store = Some(self.open_store()?);
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
    /// check (`ensure_fresh`) was made.
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
                cache.map.insert(keys[i].id.clone(), found[i].clone());
            }
        }
        Ok(found)
    }

    /// Judges `keys` for a request whose check (`ensure_fresh`) was made,
    /// on `store` (the calling thread's own connection, opened no earlier
    /// than the check), and counts a use of each VALID one (written by
    /// `flush`).
    pub fn verify(
        &self,
        store: &mut dyn Store,
        keys: &[&ParsedKey],
        question: &Question<'_>,
        now: Timestamp,
    ) -> Result<Vec<Verdict>> {
        let stored = self.credentials(store, keys)?;
        let verdicts: Vec<Verdict> = keys
            .iter()
            .zip(stored)
            .map(|(key, stored)| {
                let mut verdict = verify::judge(key, stored, question.service, now);
                verify::require_scopes(&mut verdict, question.scopes);
                verdict
            })
            .collect();
        let valid = verdicts.iter().filter(|v| v.is_valid()).count();
        if valid > 0 {
            let mut uses = self.uses.lock().unwrap_or_else(|e| e.into_inner());
            for (key, verdict) in keys.iter().zip(&verdicts) {
                if verdict.is_valid() {
                    uses.ids.push(key.id.clone());
                }
            }
            uses.at = uses.at.max(now);
            self.metrics.pending_uses.fetch_add(valid as u64, SeqCst);
        }
        Ok(verdicts)
    }

    /// Whether the store answers: after a check (`ensure_fresh`) on the
    /// home connection, a read on `store`.
    pub fn health(&self, store: &mut dyn Store) -> Result<()> {
        store.credentials(&["healthcheck0"], &mut |_, _| Ok(()))
    }

    /// Writes every pending use through the home connection, waiting at
    /// most `wait` for a busy store (outside the home lock: see the
    /// module's note); on failure they stay pending for the next try.
    /// Returns how many were written.
    pub fn flush(&self, wait: Duration) -> Result<u64> {
        let Pending { ids, at } =
            std::mem::take(&mut *self.uses.lock().unwrap_or_else(|e| e.into_inner()));
        if ids.is_empty() {
            return Ok(0);
        }
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let deadline = Instant::now() + wait;
        let written = loop {
            let mut home = self.home();
            let written = self
                .check_file(&mut home)
                .and_then(|()| self.home_store(&mut home))
                .and_then(|store| {
                    store.set_busy_timeout(Duration::ZERO)?;
                    let written = store.record_uses(&refs, at);
                    let restored = store.set_busy_timeout(BUSY_TIMEOUT);
                    written.and(restored)
                });
            match written {
                Err(e)
                    if e.store_fault() == Some(StoreFault::Busy) && Instant::now() < deadline =>
                {
                    drop(home);
                    std::thread::sleep(FLUSH_RETRY);
                }
                Err(e) => {
                    drop_unless_busy(&mut home, &e);
                    break Err(e);
                }
                Ok(()) => break Ok(()),
            }
        };
        match written {
            Ok(()) => {
                let n = ids.len() as u64;
                self.metrics.pending_uses.fetch_sub(n, SeqCst);
                self.metrics.flushed_uses.fetch_add(n, SeqCst);
                Ok(n)
            }
            Err(e) => {
                self.clear_cache();
                let mut uses = self.uses.lock().unwrap_or_else(|e| e.into_inner());
                let mut back = ids;
                back.append(&mut uses.ids);
                uses.ids = back;
                uses.at = uses.at.max(at);
                Err(e)
            }
        }
    }

    pub fn pending(&self) -> u64 {
        self.metrics.pending_uses.load(SeqCst)
    }
}

/// After a failure on the home connection: a busy store's connection is
/// kept (it is sound; another process holds the lock), any other is
/// dropped, to be opened again by the next check (how `serve` recovers
/// from a store that went away or was replaced). A new connection's
/// counter is not comparable with the old one's.
fn drop_unless_busy(home: &mut Home, e: &Error) {
    if e.store_fault() != Some(StoreFault::Busy) {
        home.store = None;
    }
    home.version = None;
}

/// The file at `path` (device, inode), or the 503 of a store gone.
fn identity(path: &std::path::Path) -> Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .map(|m| (m.dev(), m.ino()))
        .map_err(|e| {
            Error::store(
                StoreFault::Unavailable,
                format!("cannot read the store {}: {e}", path.display()),
            )
        })
}

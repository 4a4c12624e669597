//! Pending uses: the VALID answers of keys without a limit of uses,
//! counted in memory (one entry a key) and written by the flusher.
//!
//! Uses are written by the flusher on a connection of its own (the last
//! slot), never on the home connection: a write waits for the store's write
//! lock and its `fsync`, and every request needing a check would wait with
//! it. The flusher makes a check first, like a read, so that it writes to
//! the store the checks see.

use std::collections::HashMap;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::model::Timestamp;

use super::{BUSY_TIMEOUT, Engine};

/// Keys whose uses one flush transaction writes (see `flush`): a fraction
/// of a millisecond of work; more when a flush would take over
/// `FLUSH_TRANSACTIONS` commits.
const FLUSH_CHUNK: usize = 100;
const FLUSH_TRANSACTIONS: usize = 64;

/// Uses counted since the last flush: one entry a key, however many
/// requests, so memory is bounded by the keys used, not the load.
#[derive(Default)]
pub(super) struct Pending {
    counts: HashMap<String, u64>,
    /// When the latest pending use happened.
    at: Timestamp,
}

impl Engine {
    /// Counts one use of each of `ids` (the VALID answers that count a use,
    /// `Verdict::counts_a_use`), to be written by `flush`.
    pub(super) fn count_uses<'a>(&self, ids: impl Iterator<Item = &'a str>, now: Timestamp) {
        let mut ids = ids.peekable();
        if ids.peek().is_none() {
            return;
        }
        let mut uses = self.uses.lock().unwrap_or_else(|e| e.into_inner());
        let mut counted = 0;
        for id in ids {
            match uses.counts.get_mut(id) {
                Some(n) => *n += 1,
                None => {
                    uses.counts.insert(id.to_owned(), 1);
                }
            }
            counted += 1;
        }
        uses.at = uses.at.max(now);
        self.metrics.pending_uses.fetch_add(counted, SeqCst);
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

//! The threads that own store connections and run the synchronous
//! verification core for the async handlers.
//!
//! Why a pool of our own threads, not `spawn_blocking` and not the runtime's
//! workers: a store connection is `Send` but not shared, and opening one is
//! costly (a file, a PostgreSQL session), so each thread keeps its own for
//! its whole life; `spawn_blocking` threads come and go (up to 512 of them,
//! each needing a connection). The PostgreSQL store drives its own runtime
//! with `block_on`, which may not run inside tokio's context. And a store
//! call may wait (SQLite's busy lock, a slow network): on a runtime worker
//! that would stall every connection that worker serves. So handlers send a
//! job over a channel and await the answer; a few threads (one per core)
//! answer, and the number of connections to the store is bounded by them.
//!
//! What needs no store call stays on the runtime's thread: a freshness
//! check that never waits (SQLite's) and an answer the cache holds, which
//! is most of them under load; a hop costs two thread wake-ups, more than
//! the rest of such an answer.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::oneshot;

use crate::error::{Error, Result, StoreFault};
use crate::key_format::ParsedKey;
use crate::time;
use crate::verify::{Required, Verdict};

use super::engine::{BUSY_TIMEOUT, Engine, OnSlot, RETRY, Uncached, busy};

/// How many times a request asks for leases with others' before a store
/// thread asks for its own.
const LEASE_TRIES: usize = 3;

pub enum Job {
    /// A freshness check, for a store whose checks may wait (`checks_inline`).
    Check {
        ticket: u64,
        reply: oneshot::Sender<Result<bool>>,
    },
    Verify {
        keys: Vec<ParsedKey>,
        required: Required,
        /// See `Engine::verify_on_slot`.
        hand_back: bool,
        reply: oneshot::Sender<Result<OnSlot>>,
    },
    Health {
        reply: oneshot::Sender<Result<()>>,
    },
    /// Send the asks for leases requests queued (`Engine::want_leases`).
    Lease,
}

#[derive(Clone)]
pub struct Pool {
    engine: Arc<Engine>,
    jobs: mpsc::Sender<Job>,
}

impl Pool {
    /// Starts `threads` threads; they end when every `Pool` clone is dropped.
    pub fn start(engine: Arc<Engine>, threads: usize) -> (Pool, Vec<std::thread::JoinHandle<()>>) {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let handles = (0..threads.max(1))
            .map(|i| {
                let (engine, rx) = (engine.clone(), rx.clone());
                std::thread::Builder::new()
                    .name(format!("keysmith-verify-{i}"))
                    .spawn(move || work(&engine, i, &rx))
                    .expect("start a verification thread")
            })
            .collect();
        (Pool { engine, jobs: tx }, handles)
    }

    /// Judges `keys` for the request holding `ticket`: from the cache on
    /// this thread when it holds them all, else on a store thread.
    pub async fn verify(
        &self,
        ticket: u64,
        keys: Vec<ParsedKey>,
        required: Required,
    ) -> Result<Vec<Verdict>> {
        self.fresh(ticket).await?;
        // A request whose leases have no room asks for them with the
        // others' (`Engine::want_leases`), a few times: the room granted
        // may be taken by others first; then a store thread decides.
        for _ in 0..LEASE_TRIES {
            let refs: Vec<&ParsedKey> = keys.iter().collect();
            let subjects = match self.engine.verify_cached(&refs, &required, time::now()) {
                Ok(verdicts) => return Ok(verdicts),
                Err(Uncached::NeedsLease(subjects)) => subjects,
                Err(Uncached::NotCached) => {
                    match self.on_slot(keys.clone(), required.clone(), true).await? {
                        OnSlot::Verdicts(verdicts) => return Ok(verdicts),
                        OnSlot::NeedsLease(subjects) => subjects,
                    }
                }
            };
            self.engine.metrics.lease_waits.fetch_add(1, Relaxed);
            let leased = self.engine.want_leases(&subjects);
            self.send(Job::Lease)?;
            leased.await.map_err(|_| stopped())?;
        }
        match self.on_slot(keys, required, false).await? {
            OnSlot::Verdicts(verdicts) => Ok(verdicts),
            OnSlot::NeedsLease(_) => Err(busy()),
        }
    }

    async fn on_slot(
        &self,
        keys: Vec<ParsedKey>,
        required: Required,
        hand_back: bool,
    ) -> Result<OnSlot> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Verify {
            keys,
            required,
            hand_back,
            reply,
        })?;
        answer.await.map_err(|_| stopped())?
    }

    pub async fn health(&self, ticket: u64) -> Result<()> {
        self.fresh(ticket).await?;
        let (reply, answer) = oneshot::channel();
        self.send(Job::Health { reply })?;
        answer.await.map_err(|_| stopped())?
    }

    /// Waits until a freshness check made after the request holding
    /// `ticket` arrived has succeeded: while the store is busy, up to
    /// `BUSY_TIMEOUT`, without holding this thread.
    async fn fresh(&self, ticket: u64) -> Result<()> {
        if self.engine.is_fresh(ticket) {
            return Ok(());
        }
        // Let the other requests this thread has ready take their tickets
        // first: the check made next covers them all.
        tokio::task::yield_now().await;
        let deadline = Instant::now() + BUSY_TIMEOUT;
        loop {
            let fresh = if self.engine.checks_inline() {
                self.engine.try_fresh(ticket)?
            } else {
                let (reply, answer) = oneshot::channel();
                self.send(Job::Check { ticket, reply })?;
                answer.await.map_err(|_| stopped())??
            };
            if fresh {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(busy());
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    fn send(&self, job: Job) -> Result<()> {
        self.jobs.send(job).map_err(|_| stopped())
    }
}

fn stopped() -> Error {
    Error::store(StoreFault::Unavailable, "the verification threads stopped")
}

fn work(engine: &Engine, i: usize, jobs: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let job = {
            let rx = jobs.lock().unwrap_or_else(|e| e.into_inner());
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        match job {
            Job::Check { ticket, reply } => {
                let _ = reply.send(engine.try_fresh(ticket));
            }
            Job::Verify {
                keys,
                required,
                hand_back,
                reply,
            } => {
                let refs: Vec<&ParsedKey> = keys.iter().collect();
                let answer = engine.verify_on_slot(i, &refs, &required, time::now(), hand_back);
                let _ = reply.send(answer);
            }
            Job::Health { reply } => {
                // A pooled connection the store dropped (a restart) fails
                // once and is let go: health is a read, so it is asked again
                // on a new connection, and a store that is back answers
                // 200 at once rather than 503 to a gateway's next probe.
                let health = || engine.on_slot(i, |s| engine.health(s));
                let answer = match health() {
                    Err(e) if e.store_fault().is_some_and(|f| f != StoreFault::Busy) => health(),
                    answer => answer,
                };
                let _ = reply.send(answer);
            }
            Job::Lease => {
                engine.send_wanted(i);
            }
        }
    }
}

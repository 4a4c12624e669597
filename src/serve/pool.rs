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

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::error::{Error, Result, StoreFault};
use crate::key::ParsedKey;
use crate::store::Store;
use crate::time;
use crate::verify::Verdict;

use super::engine::{Engine, Question};

pub enum Job {
    Verify {
        ticket: u64,
        keys: Vec<ParsedKey>,
        service: Option<String>,
        scopes: Vec<String>,
        reply: oneshot::Sender<Result<Vec<Verdict>>>,
    },
    Health {
        reply: oneshot::Sender<Result<()>>,
    },
}

#[derive(Clone)]
pub struct Pool {
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
        (Pool { jobs: tx }, handles)
    }

    pub async fn verify(
        &self,
        ticket: u64,
        keys: Vec<ParsedKey>,
        service: Option<String>,
        scopes: Vec<String>,
    ) -> Result<Vec<Verdict>> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Verify {
            ticket,
            keys,
            service,
            scopes,
            reply,
        })?;
        answer.await.map_err(|_| stopped())?
    }

    pub async fn health(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Health { reply })?;
        answer.await.map_err(|_| stopped())?
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
            Job::Verify {
                ticket,
                keys,
                service,
                scopes,
                reply,
            } => {
                let answer = engine.ensure_fresh(ticket).and_then(|()| {
                    with_store(engine, i, |s| {
                        let refs: Vec<&ParsedKey> = keys.iter().collect();
                        let question = Question {
                            service: service.as_deref(),
                            scopes: &scopes,
                        };
                        engine.verify(s, &refs, &question, time::now())
                    })
                });
                let _ = reply.send(answer);
            }
            Job::Health { reply } => {
                let answer = engine
                    .ensure_fresh(engine.ticket())
                    .and_then(|()| with_store(engine, i, |s| engine.health(s)));
                let _ = reply.send(answer);
            }
        }
    }
}

/// Runs `work` on this thread's connection (its slot in the engine),
/// opening it when there is none; a connection that failed is dropped, to
/// be opened again by the next job (how `serve` recovers when the store
/// comes back). The engine empties the slots when the store's file changed.
fn with_store<T>(
    engine: &Engine,
    i: usize,
    work: impl FnOnce(&mut dyn Store) -> Result<T>,
) -> Result<T> {
    let mut slot = engine.slot(i);
    if slot.is_none() {
        *slot = Some(engine.open_store()?);
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

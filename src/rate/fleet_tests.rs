//! The fleet's promise, tested as a whole (docs/src/fleet-limits.md):
//! several processes, each with its own `Leases`, one store deciding by
//! `ledger::plan`, and any interleaving of admissions, commits, cancels,
//! asks sent, decided and answered (or lost), renewals, give-backs (in
//! pieces) and crashes, on a clock that only moves forward. However it goes, the
//! VALID answers (committed admissions, at the moment each was admitted)
//! are never more than the limit in any window.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::leases::{Admission, Admit, Leases};
use super::ledger::{self, LeaseAnswer, LeaseAsk, Subject};
use crate::model::RateLimit;

#[derive(Debug, Clone)]
enum Step {
    /// Real time moves on, in milliseconds.
    Wait(u16),
    /// Process `p` admits `n` requests of subject `s` at once (asking the
    /// store when it needs a lease).
    Admit { p: usize, s: usize, n: usize },
    /// One of the reservations made is committed (VALID) or cancelled.
    Settle { which: usize, valid: bool },
    /// Process `p` sends the asks it makes ahead (renewals, give-backs).
    Renew { p: usize },
    /// The store decides one call on its way; `lost`: its answer never
    /// arrives (its outcome unknown to the process).
    Decide { which: usize, lost: bool },
    /// A decided call's answer reaches its process.
    Answer { which: usize },
    /// A call fails before the store decides it.
    Fail { which: usize },
    /// Process `p` dies, with whatever it held, and starts again empty.
    Crash { p: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u16..150).prop_map(Step::Wait),
        10 => (0usize..3, 0usize..RATES.len(), prop_oneof![3 => Just(1usize), 1 => 2usize..40])
            .prop_map(|(p, s, n)| Step::Admit { p, s, n }),
        8 => (0usize..64, proptest::bool::weighted(0.9)).prop_map(|(which, valid)| Step::Settle { which, valid }),
        2 => (0usize..3).prop_map(|p| Step::Renew { p }),
        4 => (0usize..8, proptest::bool::weighted(0.05)).prop_map(|(which, lost)| Step::Decide { which, lost }),
        4 => (0usize..8).prop_map(|which| Step::Answer { which }),
        1 => (0usize..8).prop_map(|which| Step::Fail { which }),
        1 => (0usize..3).prop_map(|p| Step::Crash { p }),
    ]
}

/// A call from a process to the store.
struct Call {
    process: usize,
    /// The process's life it was sent in: a crashed one's answers go nowhere.
    life: u32,
    asks: Vec<LeaseAsk>,
    sent: Instant,
    /// The store's answers, once decided.
    answers: Option<Option<Vec<LeaseAnswer>>>,
}

struct Fleet {
    base: Instant,
    now_ms: u64,
    /// The store's clock runs this far ahead of real time.
    store_offset: i64,
    subjects: HashMap<String, Subject>,
    processes: Vec<(Leases, u32)>,
    calls: Vec<Call>,
    reserved: Vec<(usize, u32, Admission, u64, String)>,
    /// Per subject, when each VALID answer was admitted (real ms).
    valid: HashMap<String, Vec<u64>>,
    next_id: i64,
}

const RATES: [RateLimit; 3] = [
    RateLimit {
        limit: 5,
        per_seconds: 1,
    },
    RateLimit {
        limit: 12,
        per_seconds: 2,
    },
    // Leases of more than `PIECES` places: pieces of several admissions.
    RateLimit {
        limit: 100,
        per_seconds: 1,
    },
];

impl Fleet {
    fn now(&self) -> Instant {
        self.base + Duration::from_millis(self.now_ms)
    }

    fn send(&mut self, p: usize, asks: Vec<LeaseAsk>) {
        if !asks.is_empty() {
            self.calls.push(Call {
                process: p,
                life: self.processes[p].1,
                asks,
                sent: self.now(),
                answers: None,
            });
        }
    }

    /// The store decides `asks` now, as `Store::lease` does in one transaction.
    fn decide(&mut self, asks: &[LeaseAsk]) -> Vec<LeaseAnswer> {
        let clock = self.now_ms as i64 + self.store_offset;
        let mut read = HashMap::new();
        for ask in asks {
            let s = self.subjects.entry(ask.subject.clone()).or_default();
            s.now = ledger::now(clock, Some(s.now));
            read.insert(ask.subject.clone(), s.clone());
        }
        let plan = ledger::plan(asks, &read);
        let mut answers = Vec::new();
        for s in self.subjects.values_mut() {
            s.leases.retain(|l| !plan.delete.contains(&l.id));
            for u in &plan.update {
                if let Some(l) = s.leases.iter_mut().find(|l| l.id == u.id) {
                    *l = *u;
                }
            }
        }
        for (i, piece) in &plan.pieces {
            self.next_id += 1;
            let id = self.next_id;
            let s = self.subjects.get_mut(&asks[*i].subject).unwrap();
            s.leases.push(ledger::Lease { id, ..*piece });
        }
        let mut ids = vec![None; asks.len()];
        for (i, lease) in &plan.insert {
            self.next_id += 1;
            let id = self.next_id;
            let s = self.subjects.get_mut(&asks[*i].subject).unwrap();
            s.leases.push(ledger::Lease { id, ..*lease });
            ids[*i] = Some(id);
        }
        for (grant, id) in plan.answers.into_iter().zip(ids) {
            answers.push(LeaseAnswer { id, grant });
        }
        answers
    }

    fn run(&mut self, step: Step) {
        match step {
            Step::Wait(ms) => self.now_ms += u64::from(ms),
            Step::Admit { p, s, n } => {
                let subject = format!("k{s}");
                let now = self.now();
                for _ in 0..n {
                    let (leases, life) = &self.processes[p];
                    match leases.admit(&subject, RATES[s], now) {
                        Admit::Admitted(a) => {
                            self.reserved
                                .push((p, *life, a, self.now_ms, subject.clone()))
                        }
                        Admit::Refused(wait) => assert!(wait > Duration::ZERO),
                        Admit::NeedsLease => {
                            if let Some(ask) = leases.ask_now(&subject, now) {
                                self.send(p, vec![ask]);
                            }
                            break;
                        }
                    }
                }
            }
            Step::Settle { which, valid } => {
                if self.reserved.is_empty() {
                    return;
                }
                let (p, life, a, at, subject) = self.reserved.remove(which % self.reserved.len());
                if self.processes[p].1 != life {
                    return; // its process died before answering
                }
                if valid {
                    self.processes[p].0.commit(a);
                    self.valid.entry(subject).or_default().push(at);
                } else {
                    self.processes[p].0.cancel(a);
                }
            }
            Step::Renew { p } => {
                let asks = self.processes[p].0.asks(self.now());
                self.send(p, asks);
            }
            Step::Decide { which, lost } => {
                let waiting: Vec<usize> = (0..self.calls.len())
                    .filter(|&i| self.calls[i].answers.is_none())
                    .collect();
                if let Some(&i) = waiting.get(which % waiting.len().max(1)) {
                    let asks = self.calls[i].asks.clone();
                    let answers = self.decide(&asks);
                    self.calls[i].answers = Some((!lost).then_some(answers));
                }
            }
            Step::Answer { which } | Step::Fail { which } => {
                let failing = matches!(step, Step::Fail { .. });
                let ready: Vec<usize> = (0..self.calls.len())
                    .filter(|&i| self.calls[i].answers.is_some() != failing)
                    .collect();
                if let Some(&i) = ready.get(which % ready.len().max(1)) {
                    let call = self.calls.remove(i);
                    let (leases, life) = &self.processes[call.process];
                    if *life == call.life {
                        let answers = call.answers.flatten();
                        leases.answered(&call.asks, answers.as_deref(), call.sent, self.now());
                    }
                }
            }
            Step::Crash { p } => {
                let life = self.processes[p].1 + 1;
                self.processes[p] = (Leases::default(), life);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_fleet_never_admits_more_than_the_limit_in_any_window(
        steps in proptest::collection::vec(step(), 1..1_500),
        store_offset in -5_000i64..5_000,
    ) {
        let mut fleet = Fleet {
            base: Instant::now(),
            now_ms: 0,
            store_offset,
            subjects: HashMap::new(),
            processes: (0..3).map(|_| (Leases::default(), 0)).collect(),
            calls: Vec::new(),
            reserved: Vec::new(),
            valid: HashMap::new(),
            next_id: 0,
        };
        for step in steps {
            fleet.run(step);
        }
        for (s, rate) in RATES.iter().enumerate() {
            let mut at = fleet.valid.remove(&format!("k{s}")).unwrap_or_default();
            at.sort_unstable();
            let window = u64::from(rate.per_seconds) * 1000;
            for (i, &start) in at.iter().enumerate() {
                let inside = at[i..].iter().take_while(|&&t| t < start + window).count();
                prop_assert!(inside as u32 <= rate.limit,
                    "k{s}: {inside} VALID answers in [{start}, +{window}) ms: {at:?}");
            }
        }
    }
}

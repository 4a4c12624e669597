//! `serve`'s verdicts (docs/src/limits.md): the checks of `judge`, then each
//! VALID key held to its rate limit, then its use spent or counted.
//!
//! A rate limit is admitted before the answer is final: a place in the
//! key's window is reserved (`RateLimits::admit`) as soon as the checks find
//! the key VALID, so requests deciding at the same time cannot all pass.
//! The final answer settles exactly that reservation: committed when it is
//! VALID, cancelled when it turned out not to be (no use left, the store
//! failed while spending), so a refused answer never uses up the window.
//!
//! Uses are exact: a VALID key with a limit of uses spends one in the store
//! before it is answered (`spend`); a key read from `serve`'s cache never
//! has such a limit (the cache reads those through), so its VALID answers
//! are final at once. A VALID key without one counts a use
//! (`Verdict::counts_a_use`), written later by `serve`'s flusher.

use std::time::{Duration, Instant};

use crate::error::Result;
use crate::key_format::ParsedKey;
use crate::model::{Credential, RateLimit, Timestamp};

use super::{Code, Required, Verdict, judge_costing};

/// The bookkeeping of rate limits (in `serve`, `serve::rate::RateLimiter`):
/// the verdict decides when to admit, commit and cancel; the limiter keeps
/// the windows.
pub trait RateLimits {
    /// A reserved place in a key's window, to be committed or cancelled.
    type Admission;
    /// Reserves one answer for key `id` at `now`, or says how long until
    /// its window has room for one.
    fn admit(&self, id: &str, rate: RateLimit, now: Instant) -> Result<Self::Admission, Duration>;
    /// The answer the admission was reserved for is VALID.
    fn commit(&self, admission: Self::Admission);
    /// The answer the admission was reserved for is not VALID after all.
    fn cancel(&self, admission: Self::Admission);
}

/// Verdicts not yet final: each VALID one holds the reservations that
/// admitted it (its key's window, its owner's), until `settle_cached` or
/// `spend_and_settle`.
#[must_use = "settle the verdicts' rate-limit reservations"]
pub struct Judged<A> {
    verdicts: Vec<Verdict>,
    admissions: Vec<Vec<A>>,
}

/// The name of an owner's window among the keys' (a key id holds no `:`).
fn owner_window(owner: &str) -> String {
    format!("owner:{owner}")
}

/// Judges each of `keys` against what the store holds under its id
/// (`stored`, in the same order), then holds each VALID one to its rate
/// limit: admitted (a reservation) or RATE_LIMITED with how long to wait.
pub fn judge_rated<L: RateLimits>(
    keys: &[&ParsedKey],
    stored: Vec<Option<Credential>>,
    required: &Required,
    now: Timestamp,
    limits: &L,
) -> Judged<L::Admission> {
    let instant = Instant::now();
    let mut admissions = Vec::with_capacity(keys.len());
    let verdicts = keys
        .iter()
        .zip(stored)
        .enumerate()
        .map(|(i, (key, stored))| {
            let mut verdict = judge_costing(key, stored, required, required.cost_at(i), now);
            let mut admitted = Vec::new();
            if let (true, Some(found)) = (verdict.is_valid(), verdict.key.as_ref()) {
                // The key's window, then its owner's, shared by all its
                // keys (docs/src/owners.md): both must admit.
                let owner_rate = found.owner_state.as_ref().and_then(|o| o.limits.rate);
                let windows = [
                    found.limits.rate.map(|rate| (key.id.clone(), rate)),
                    found
                        .owner
                        .as_deref()
                        .zip(owner_rate)
                        .map(|(owner, rate)| (owner_window(owner), rate)),
                ];
                for (window, rate) in windows.into_iter().flatten() {
                    match limits.admit(&window, rate, instant) {
                        Ok(admission) => admitted.push(admission),
                        Err(wait) => {
                            for admission in admitted.drain(..) {
                                limits.cancel(admission);
                            }
                            verdict.code = Code::RateLimited;
                            verdict.retry_after = Some(wait);
                            break;
                        }
                    }
                }
            }
            admissions.push(admitted);
            verdict
        })
        .collect();
    Judged {
        verdicts,
        admissions,
    }
}

impl<A> Judged<A> {
    /// The ids of the VALID verdicts that count a use without spending one,
    /// once per verdict.
    pub fn counted_uses(&self) -> impl Iterator<Item = &str> {
        self.verdicts
            .iter()
            .filter(|v| v.counts_a_use())
            .filter_map(|v| v.key.as_ref().map(|k| k.id.as_str()))
    }

    /// Whether any verdict still has to spend a use (`spend_and_settle`).
    pub fn spends_uses(&self) -> bool {
        self.verdicts.iter().any(Verdict::spends_a_use)
    }

    /// The final verdicts of keys read from `serve`'s cache: none has a
    /// limit of uses, so every VALID answer is final and its reservation
    /// committed.
    pub fn settle_cached(self, limits: &impl RateLimits<Admission = A>) -> Vec<Verdict> {
        debug_assert!(!self.spends_uses(), "the cache holds no key with uses");
        for admission in self.admissions.into_iter().flatten() {
            limits.commit(admission);
        }
        self.verdicts
    }

    /// Spends a use of each VALID key with a limit of uses, through
    /// `spend` (`verify::spend` on a store connection), then settles each
    /// reservation by its own answer: one that is not VALID after all, or
    /// whose spending failed, gives back its place. Returns the verdicts
    /// and how many uses were spent.
    pub fn spend_and_settle(
        mut self,
        spend: impl FnOnce(&mut [Verdict]) -> Result<u64>,
        limits: &impl RateLimits<Admission = A>,
    ) -> Result<(Vec<Verdict>, u64)> {
        let spent = if self.spends_uses() {
            spend(&mut self.verdicts)
        } else {
            Ok(0)
        };
        for (verdict, admitted) in self.verdicts.iter().zip(self.admissions) {
            for admission in admitted {
                if spent.is_ok() && verdict.is_valid() {
                    limits.commit(admission);
                } else {
                    limits.cancel(admission);
                }
            }
        }
        Ok((self.verdicts, spent?))
    }
}

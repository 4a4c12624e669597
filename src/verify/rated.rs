//! `serve`'s verdicts (docs/src/limits.md): the checks of `judge`, then each
//! VALID key held to its rate limits, fleet-wide (docs/src/fleet-limits.md),
//! then its use spent or counted.
//!
//! A rate limit is admitted before the answer is final: a place in one of
//! the process's leases of the key's window is reserved (`Leases::admit`)
//! as soon as the checks find the key VALID, so requests deciding at the
//! same time cannot all pass. With no lease to take from, the verdicts wait
//! for one (`NeedsLease`): the caller asks the store and judges again.
//! The final answer settles exactly that reservation: committed when it is
//! VALID, cancelled when it turned out not to be (no use left, the store
//! failed while spending), so a refused answer never uses up the window.
//!
//! Uses are exact: a VALID key with a limit of uses spends one in the store
//! before it is answered (`spend`); a key read from `serve`'s cache never
//! has such a limit (the cache reads those through), so its VALID answers
//! are final at once. A VALID key without one counts a use
//! (`Verdict::counts_a_use`), written later by `serve`'s flusher.

use std::time::Instant;

use crate::error::Result;
use crate::key_format::ParsedKey;
use crate::model::{Credential, RateLimit, Timestamp};
use crate::rate::leases::{Admission, Admit, Leases};

use super::{Code, Required, Verdict, judge_costing};

/// Verdicts not yet final: each VALID one holds the reservations that
/// admitted it (its key's window, its owner's), until `settle_cached` or
/// `spend_and_settle`.
#[must_use = "settle the verdicts' rate-limit reservations"]
pub struct Judged {
    verdicts: Vec<Verdict>,
    admissions: Vec<Vec<Admission>>,
}

/// Verdicts that cannot be decided before the process leases budget of
/// these subjects (`Leases::ask_now`); nothing is reserved meanwhile.
#[derive(Debug, PartialEq, Eq)]
pub struct NeedsLease(pub Vec<String>);

/// The rate-limit windows a VALID verdict of `found` must be admitted by:
/// the key's, named by its id, then its owner's, shared by all its keys
/// (docs/src/owners.md), named `owner:ID` (a key id holds no `:`).
pub(crate) fn windows(found: &Credential) -> impl Iterator<Item = (String, RateLimit)> {
    let owner_rate = found.owner_state.as_ref().and_then(|o| o.limits.rate);
    [
        found.limits.rate.map(|rate| (found.id.clone(), rate)),
        found
            .owner
            .as_deref()
            .zip(owner_rate)
            .map(|(owner, rate)| (format!("owner:{owner}"), rate)),
    ]
    .into_iter()
    .flatten()
}

/// Judges each of `keys` against what the store holds under its id
/// (`stored`, in the same order), then holds each VALID one to its rate
/// limits: admitted (a reservation) or RATE_LIMITED with how long to wait;
/// or, when a window has no lease with room, none of them yet.
pub fn judge_rated(
    keys: &[&ParsedKey],
    stored: Vec<Option<Credential>>,
    required: &Required,
    now: Timestamp,
    leases: &Leases,
) -> std::result::Result<Judged, NeedsLease> {
    let instant = Instant::now();
    let mut admissions: Vec<Vec<Admission>> = Vec::with_capacity(keys.len());
    let mut needed: Vec<String> = Vec::new();
    let mut verdicts = Vec::with_capacity(keys.len());
    for (i, (key, stored)) in keys.iter().zip(stored).enumerate() {
        let mut verdict = judge_costing(key, stored, required, required.cost_at(i), now);
        let mut admitted = Vec::new();
        if let (true, Some(found)) = (verdict.is_valid(), verdict.key.as_ref()) {
            for (window, rate) in windows(found) {
                match leases.admit(&window, rate, instant) {
                    Admit::Admitted(admission) => admitted.push(admission),
                    Admit::Refused(wait) => {
                        verdict.code = Code::RateLimited;
                        verdict.retry_after = Some(wait);
                    }
                    Admit::NeedsLease => needed.push(window),
                }
                if !verdict.is_valid() || !needed.is_empty() {
                    break;
                }
            }
            if !verdict.is_valid() {
                for admission in admitted.drain(..) {
                    leases.cancel(admission);
                }
            }
        }
        admissions.push(admitted);
        verdicts.push(verdict);
    }
    if !needed.is_empty() {
        for admission in admissions.into_iter().flatten() {
            leases.cancel(admission);
        }
        needed.sort_unstable();
        needed.dedup();
        return Err(NeedsLease(needed));
    }
    Ok(Judged {
        verdicts,
        admissions,
    })
}

impl Judged {
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
    pub fn settle_cached(self, limits: &Leases) -> Vec<Verdict> {
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
        limits: &Leases,
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

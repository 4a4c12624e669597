//! The verdicts of `keysmith verify` and of the library held to fleet-wide
//! rate limits (docs/src/fleet-limits.md): the same budget as every `serve`
//! process sharing the store, leased for admissions made at once. Each
//! subject (a key's window, an owner's) is asked once for as many as it
//! has VALID verdicts; a verdict past what was granted is RATE_LIMITED,
//! with the wait the store named. What a verdict took and did not keep
//! (its use was not spent after all) is given back afterwards.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::Result;
use crate::rate::leases::budget;
use crate::rate::ledger::{Ask, Grant, LeaseAsk, Piece, Returned};
use crate::store::Store;

use super::rated::windows;
use super::{Code, Verdict};

/// What `admit` leased: each subject's lease and what it granted, and the
/// subjects each verdict took from.
#[derive(Default)]
pub(super) struct Taken {
    leases: Vec<(LeaseAsk, Option<i64>, Grant)>,
    by_verdict: Vec<(usize, Vec<usize>)>,
}

/// Leases for the VALID verdicts of keys with a rate limit, or whose owner
/// has one, in one store call; refuses those past what was granted.
pub(super) fn admit(store: &mut dyn Store, verdicts: &mut [Verdict]) -> Result<Taken> {
    let mut asks: Vec<LeaseAsk> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut wanted: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, verdict) in verdicts.iter().enumerate() {
        let Some(key) = verdict.key.as_ref().filter(|_| verdict.is_valid()) else {
            continue;
        };
        let subjects: Vec<usize> = windows(key)
            .map(|(subject, rate)| {
                let at = *index.entry(subject.clone()).or_insert_with(|| {
                    asks.push(LeaseAsk {
                        subject,
                        budget: budget(rate),
                        ask: Ask {
                            want: 0,
                            span_ms: 0,
                        },
                        returns: Vec::new(),
                    });
                    asks.len() - 1
                });
                asks[at].ask.want += 1;
                at
            })
            .collect();
        if !subjects.is_empty() {
            wanted.push((i, subjects));
        }
    }
    if asks.is_empty() {
        return Ok(Taken::default());
    }
    let answers = store.lease(&asks)?;
    let mut left: Vec<u32> = answers.iter().map(|a| a.grant.count).collect();
    let mut taken = Taken::default();
    for (i, subjects) in wanted {
        if subjects.iter().all(|&s| left[s] > 0) {
            for &s in &subjects {
                left[s] -= 1;
            }
            taken.by_verdict.push((i, subjects));
        } else {
            let wait = subjects
                .iter()
                .filter(|&&s| left[s] == 0)
                .map(|&s| answers[s].grant.retry_after_ms.max(1))
                .max()
                .unwrap_or(1);
            verdicts[i].code = Code::RateLimited;
            verdicts[i].retry_after = Some(Duration::from_millis(wait as u64));
        }
    }
    taken.leases = asks
        .into_iter()
        .zip(&answers)
        .map(|(ask, answer)| (ask, answer.id, answer.grant))
        .collect();
    Ok(taken)
}

/// Gives back what `admit` leased and the verdicts did not keep: those no
/// longer VALID (no use left after all, a key deleted meanwhile) and those
/// refused for another subject. Best effort: what is not given back stays
/// counted until its window passes, never more.
pub(super) fn give_back(store: &mut dyn Store, taken: Taken, verdicts: &[Verdict]) {
    let mut kept = vec![0u32; taken.leases.len()];
    for (i, subjects) in &taken.by_verdict {
        if verdicts[*i].is_valid() {
            for &s in subjects {
                kept[s] += 1;
            }
        }
    }
    let returns: Vec<LeaseAsk> = taken
        .leases
        .into_iter()
        .zip(kept)
        .filter_map(|((ask, id, granted), kept)| {
            let id = id.filter(|_| kept < granted.count)?;
            Some(LeaseAsk {
                ask: Ask {
                    want: 0,
                    span_ms: 0,
                },
                // Made at once: at the grant, which is its end.
                returns: vec![Returned {
                    id,
                    pieces: vec![Piece {
                        count: kept,
                        until: granted.until,
                    }],
                }],
                ..ask
            })
        })
        .collect();
    if !returns.is_empty() {
        let _ = store.lease(&returns);
    }
}

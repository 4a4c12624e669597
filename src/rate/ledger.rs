//! The store's side of fleet-wide rate limits (docs/src/fleet-limits.md):
//! the one rule that decides how many admissions a process may lease,
//! written once above the backends. Each backend, inside one transaction
//! (`Store::lease`), locks the subjects asked for and reads their clocks
//! and leases (`Subject`), lets `plan` decide, and writes the plan back.
//!
//! A lease is a promise about time, in the store's clock: at most `count`
//! admissions, all made within `[granted_at, until]`. The process that holds
//! it stops admitting from it by its own clock before `until` can pass,
//! and when it gives the lease back it says how many it used; `until` then
//! becomes the moment of the return, when that is sooner.
//!
//! The rule: a new lease at `now` may take what the leases that could
//! still share a window with it have not. A lease shares a window of `W`
//! with anything from `now` on exactly when `until + W > now`; a window
//! beginning just after `now - W` holds every such lease and the new one,
//! so their counts together must stay within the limit, and no other
//! window holds more of them. Where in its interval a lease's admissions
//! fell is not known, so each is counted whole: never over the limit in
//! any sliding window, at the price of refusing early when a lease's
//! interval is long and its admissions were few.

/// One lease as the store keeps it. Times are milliseconds of the store's
/// clock (`Ledger::now`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub id: i64,
    pub granted_at: i64,
    /// No admission from this lease after this moment.
    pub until: i64,
    pub count: u32,
}

/// A subject's limit in the ledger's terms: `limit` admissions in any
/// window of `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub limit: u32,
    pub window_ms: i64,
}

/// What a process asks of a subject: `want` admissions, to be made within
/// `span_ms` of the grant (0: at once, as `keysmith verify` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    pub want: u32,
    pub span_ms: i64,
}

/// What the ledger grants: `count` admissions (possibly 0) within
/// `[now, until]`, and how long until the first lease counted before it
/// leaves every window that reaches `now` (0: none was), the least wait
/// before more can be granted when `count` fell short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub count: u32,
    pub now: i64,
    pub until: i64,
    pub retry_after_ms: i64,
}

/// A lease lasts at most this part of a window: one a process dies
/// holding is counted until its end and a window after, so the fleet has
/// all its budget back at most a window and a half after a crash
/// (docs/src/fleet-limits.md, "Faults").
pub const SPAN_DIVISOR: i64 = 2;
/// Near the limit, where a share is a large part of what is left, an
/// eighth.
pub const NEAR_LIMIT_SPAN_DIVISOR: i64 = 8;

impl Budget {
    /// Whether `lease` may still share a window with an admission at `now`
    /// or later. Leases that do not are the backends' to delete.
    pub fn counts(&self, lease: &Lease, now: i64) -> bool {
        lease.until.saturating_add(self.window_ms) > now
    }

    /// Decides `ask` at `now` (the store's clock, never before any lease's
    /// `granted_at`: see `Ledger::now`) against `leases`, the subject's
    /// leases (those no longer counted are ignored). A process may take
    /// at most half of what is left (at least one), so that a share
    /// shrinks near the limit and the last admissions of a window are
    /// coordinated one by one. A lease lasts at most half a window, one
    /// that brings the subject past half its limit an eighth. Admissions made at
    /// once (`span_ms` 0: `keysmith verify`) may take all that is left.
    pub fn decide(&self, leases: &[Lease], now: i64, ask: Ask) -> Grant {
        let counted = leases.iter().filter(|l| l.count > 0 && self.counts(l, now));
        let taken: u64 = counted.clone().map(|l| u64::from(l.count)).sum();
        let available = u64::from(self.limit).saturating_sub(taken);
        // When more will be free: as the first lease counted leaves every
        // window that reaches now.
        let retry_after_ms = counted
            .map(|l| l.until + self.window_ms)
            .min()
            .map_or(0, |at| (at - now).max(1));
        let count = if ask.span_ms <= 0 {
            // Admissions made at once and final: nothing to keep back.
            u64::from(ask.want).min(available)
        } else {
            u64::from(ask.want)
                .min((available / 2).max(1))
                .min(available)
        };
        if count == 0 {
            return Grant {
                count: 0,
                now,
                until: now,
                retry_after_ms,
            };
        }
        let near = 2 * (taken + count) > u64::from(self.limit);
        let longest = (self.window_ms
            / if near {
                NEAR_LIMIT_SPAN_DIVISOR
            } else {
                SPAN_DIVISOR
            })
        .max(1);
        Grant {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            now,
            until: now + ask.span_ms.clamp(0, longest),
            retry_after_ms,
        }
    }
}

/// The store's clock for a subject: its own reading, but never before the
/// latest it answered the subject with (a clock stepped back must not
/// bring leases back into a window, or take them out of one, early). The
/// backends keep that latest reading beside the subject's leases.
pub fn now(clock_ms: i64, latest: Option<i64>) -> i64 {
    latest.map_or(clock_ms, |latest| clock_ms.max(latest))
}

/// One subject's part of a `Store::lease` call: `ask` under `budget`
/// (`want` 0: nothing new), after giving back `returns`, each a lease id
/// and how many admissions it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseAsk {
    pub subject: String,
    pub budget: Budget,
    pub ask: Ask,
    pub returns: Vec<(i64, u32)>,
}

/// What `Store::lease` answered one `LeaseAsk`: the new lease's id when
/// `grant.count` is more than 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseAnswer {
    pub id: Option<i64>,
    pub grant: Grant,
}

/// What a backend read of one subject, locked: its clock (`now`, the
/// backend's reading already held to the subject's latest) and leases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub now: i64,
    pub leases: Vec<Lease>,
}

/// What a backend writes back: leases given back or out of every window
/// (deleted), leases given back with admissions (new count and end), and
/// new leases, each for the ask of that index, with its answer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub delete: Vec<i64>,
    pub update: Vec<Lease>,
    /// (the ask's index, the lease; its `id` is the backend's to choose).
    pub insert: Vec<(usize, Lease)>,
    pub answers: Vec<Grant>,
}

impl Plan {
    /// The answers to the asks, given the ids the backend gave the new
    /// leases (`ids[i]` for the ask of index `i`).
    pub fn answers(self, ids: Vec<Option<i64>>) -> Vec<LeaseAnswer> {
        self.answers
            .into_iter()
            .zip(ids)
            .map(|(grant, id)| LeaseAnswer { id, grant })
            .collect()
    }
}

/// Decides `asks`, in order, against the `subjects` a backend read (every
/// subject asked for). A subject asked for twice sees the first ask's lease.
pub fn plan(asks: &[LeaseAsk], subjects: &std::collections::HashMap<String, Subject>) -> Plan {
    let mut plan = Plan::default();
    let mut state: std::collections::HashMap<&str, Subject> = std::collections::HashMap::new();
    for (i, ask) in asks.iter().enumerate() {
        let subject = state
            .entry(ask.subject.as_str())
            .or_insert_with(|| subjects.get(&ask.subject).cloned().unwrap_or_default());
        let now = subject.now;
        for &(id, used) in &ask.returns {
            let Some(k) = subject.leases.iter().position(|l| l.id == id) else {
                continue;
            };
            match returned(&subject.leases[k], used, now) {
                Some(back) => {
                    subject.leases[k] = back;
                    plan.update.retain(|l| l.id != id);
                    plan.update.push(back);
                }
                None => {
                    subject.leases.remove(k);
                    plan.delete.push(id);
                }
            }
        }
        let budget = ask.budget;
        subject.leases.retain(|l| {
            let counted = budget.counts(l, now);
            if !counted {
                plan.delete.push(l.id);
            }
            counted
        });
        let grant = budget.decide(&subject.leases, now, ask.ask);
        if grant.count > 0 {
            let lease = Lease {
                // Not an id the store gives: only this plan's own, negative.
                id: -1 - i as i64,
                granted_at: now,
                until: grant.until,
                count: grant.count,
            };
            subject.leases.push(lease);
            plan.insert.push((i, lease));
        }
        plan.answers.push(grant);
    }
    plan.update.retain(|l| !plan.delete.contains(&l.id));
    plan
}

/// A lease given back at `now` after `used` admissions: it held no more
/// than that, and none after `now`. `None`: nothing used, delete it.
pub fn returned(lease: &Lease, used: u32, now: i64) -> Option<Lease> {
    (used > 0).then(|| Lease {
        count: used.min(lease.count),
        until: lease.until.min(now.max(lease.granted_at)),
        ..*lease
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const BUDGET: Budget = Budget {
        limit: 20,
        window_ms: 4_000,
    };

    #[test]
    fn half_of_what_is_left_then_one_by_one() {
        let ask = Ask {
            want: 100,
            span_ms: 4_000,
        };
        let mut leases = Vec::new();
        let mut counts = Vec::new();
        for id in 0..10 {
            let g = BUDGET.decide(&leases, 0, ask);
            counts.push(g.count);
            leases.push(Lease {
                id,
                granted_at: 0,
                until: g.until,
                count: g.count,
            });
        }
        assert_eq!(counts, [10, 5, 2, 1, 1, 1, 0, 0, 0, 0]);
        // Half a window at most; past half the limit, an eighth.
        assert_eq!(leases[0].until, 2_000);
        assert_eq!(leases[1].until, 500);
        let refused = BUDGET.decide(&leases, 100, ask);
        assert_eq!(refused.count, 0);
        // The first lease to leave every window: the short ones, at 500 + 4,000.
        assert_eq!(refused.retry_after_ms, 4_400);
    }

    #[test]
    fn a_returned_lease_frees_its_unused_part_and_ends_sooner() {
        let lease = Lease {
            id: 1,
            granted_at: 1_000,
            until: 5_000,
            count: 10,
        };
        assert_eq!(
            returned(&lease, 3, 2_000),
            Some(Lease {
                count: 3,
                until: 2_000,
                ..lease
            })
        );
        assert_eq!(returned(&lease, 0, 2_000), None);
        assert_eq!(returned(&lease, 3, 9_000).unwrap().until, 5_000);
    }

    proptest! {
        /// Whatever the asks and their times, and whenever leases are given
        /// back: admitting every lease's count at any moments within its
        /// interval never puts more than the limit in a window.
        #[test]
        fn no_window_holds_more_than_the_limit(
            steps in proptest::collection::vec(
                (0i64..3_000, 0u32..30, 0i64..6_000, proptest::option::of((0usize..40, 0u32..30))),
                1..60),
            placement in proptest::collection::vec(0u32..1_000, 0..2_000),
        ) {
            let mut leases: Vec<Lease> = Vec::new();
            let mut history: Vec<Lease> = Vec::new();
            let mut clock = 0;
            for (i, (advance, want, span, give_back)) in steps.into_iter().enumerate() {
                clock += advance;
                let now = now(clock, leases.iter().map(|l| l.granted_at).max());
                if let Some((which, used)) = give_back
                    && !leases.is_empty()
                {
                    let k = which % leases.len();
                    let back = returned(&leases[k], used, now);
                    let h = history.iter_mut().find(|h| h.id == leases[k].id).unwrap();
                    match back {
                        Some(b) => { *h = b; leases[k] = b; }
                        None => { h.count = 0; leases.remove(k); }
                    }
                }
                leases.retain(|l| BUDGET.counts(l, now));
                let g = BUDGET.decide(&leases, now, Ask { want, span_ms: span });
                prop_assert!(g.until >= now && g.until <= now + BUDGET.window_ms);
                if g.count > 0 {
                    let lease = Lease { id: i as i64, granted_at: now, until: g.until, count: g.count };
                    leases.push(lease);
                    history.push(lease);
                } else if want > 0 {
                    prop_assert!(g.retry_after_ms > 0);
                }
            }
            // Every admission at some moment of its lease's interval.
            let mut at = Vec::new();
            let mut p = placement.iter().cycle();
            for l in &history {
                for _ in 0..l.count {
                    let span = (l.until - l.granted_at + 1) as u32;
                    at.push(l.granted_at + i64::from(p.next().copied().unwrap_or(0) % span));
                }
            }
            at.sort_unstable();
            for (i, &start) in at.iter().enumerate() {
                let inside = at[i..].iter().take_while(|&&t| t < start + BUDGET.window_ms).count();
                prop_assert!(inside as u32 <= BUDGET.limit, "{inside} admissions in [{start}, +W)");
            }
        }
    }
}

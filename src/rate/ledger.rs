//! The store's side of fleet-wide rate limits (docs/src/fleet-limits.md):
//! the one rule that decides how many admissions a process may lease,
//! written once above the backends. Each backend, inside one transaction
//! (`Store::lease`), locks the subjects asked for and reads their clocks
//! and leases (`Subject`), lets `plan` decide, and writes the plan back.
//!
//! A lease is a promise about time, in the store's clock: at most `count`
//! admissions, all made within `[granted_at, until]`. The process that holds
//! it stops admitting from it by its own clock before `until` can pass,
//! and when it gives the lease back it says how many it used and when, in
//! pieces (`Piece`: so many admissions, none after a moment): the lease
//! becomes one record per piece, each counted only until its own moment
//! and a window, so the budget a burst used comes back a window after the
//! burst, not a window after the lease's end. Far from the limit, where
//! that precision buys nothing, the pieces are kept as one.
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
    /// The grant brings the subject past half its limit: the lease is
    /// short, and what it leaves unused is wanted back at once.
    pub near_limit: bool,
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
                near_limit: true,
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
            near_limit: near,
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
/// (`want` 0: nothing new), after giving back `returns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseAsk {
    pub subject: String,
    pub budget: Budget,
    pub ask: Ask,
    pub returns: Vec<Returned>,
}

/// A lease given back: what it admitted, in pieces, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returned {
    pub id: i64,
    pub pieces: Vec<Piece>,
}

/// `count` admissions, none after `until` (the store's clock, as the
/// process reckons it from the grant: never sooner than the truth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub count: u32,
    pub until: i64,
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
/// (deleted), leases given back with admissions (new count and end: the
/// latest piece), the earlier pieces of those as records of their own,
/// and new leases, each for the ask of that index, with its answer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub delete: Vec<i64>,
    pub update: Vec<Lease>,
    /// (the index of the ask whose subject it is, the record; its `id` is
    /// the backend's to choose).
    pub pieces: Vec<(usize, Lease)>,
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
    // Ids of records made by this plan, negative (not the store's): a new
    // lease's is -1 - its ask's index; pieces' count down after those.
    let mut next_id = -1 - asks.len() as i64;
    for (i, ask) in asks.iter().enumerate() {
        let subject = state
            .entry(ask.subject.as_str())
            .or_insert_with(|| subjects.get(&ask.subject).cloned().unwrap_or_default());
        let now = subject.now;
        for back in &ask.returns {
            let Some(k) = subject.leases.iter().position(|l| l.id == back.id) else {
                continue;
            };
            let lease = subject.leases.remove(k);
            let mut records = returned(&lease, &back.pieces, now);
            let taken: u64 = subject
                .leases
                .iter()
                .chain(&records)
                .filter(|l| ask.budget.counts(l, now))
                .map(|l| u64::from(l.count))
                .sum();
            if 2 * taken <= u64::from(ask.budget.limit) {
                records = merged(records);
            }
            plan.update.retain(|l| l.id != back.id);
            let Some(latest) = records.pop() else {
                plan.delete.push(back.id);
                continue;
            };
            for record in records {
                if ask.budget.counts(&record, now) {
                    let record = Lease {
                        id: next_id,
                        ..record
                    };
                    next_id -= 1;
                    subject.leases.push(record);
                    plan.pieces.push((i, record));
                }
            }
            subject.leases.push(latest);
            plan.update.push(latest);
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
    // A piece made by this plan and out of a later ask's window (of
    // another limit) is not written at all.
    plan.pieces.retain(|(_, l)| !plan.delete.contains(&l.id));
    plan.delete.retain(|&id| id >= 0);
    plan.update.retain(|l| !plan.delete.contains(&l.id));
    plan
}

/// A lease given back at `now` with the admissions of `pieces`: one record
/// per piece that admitted any (the lease's id on each), oldest first,
/// none ending after the lease or `now`; together no more than the lease's
/// count (a process claiming more is cut from its oldest pieces). Empty:
/// nothing used, delete it.
pub fn returned(lease: &Lease, pieces: &[Piece], now: i64) -> Vec<Lease> {
    let latest = lease.until.min(now.max(lease.granted_at));
    let mut room = lease.count;
    let mut records: Vec<Lease> = pieces
        .iter()
        .rev()
        .filter_map(|p| {
            let count = p.count.min(room);
            room -= count;
            (count > 0).then(|| Lease {
                count,
                until: p.until.clamp(lease.granted_at, latest),
                ..*lease
            })
        })
        .collect();
    records.reverse();
    records
}

/// The records of one lease given back, kept as one: their count, until
/// the latest's end.
fn merged(records: Vec<Lease>) -> Vec<Lease> {
    let Some(&first) = records.first() else {
        return records;
    };
    vec![Lease {
        count: records.iter().map(|l| l.count).sum(),
        until: records.iter().map(|l| l.until).max().unwrap_or(first.until),
        ..first
    }]
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
    fn a_returned_lease_frees_its_unused_part_and_ends_with_its_pieces() {
        let lease = Lease {
            id: 1,
            granted_at: 1_000,
            until: 5_000,
            count: 10,
        };
        let piece = |count, until| Piece { count, until };
        let record = |count, until| Lease {
            count,
            until,
            ..lease
        };
        assert_eq!(
            returned(&lease, &[piece(2, 1_200), piece(1, 1_900)], 2_000),
            [record(2, 1_200), record(1, 1_900)]
        );
        assert_eq!(returned(&lease, &[piece(0, 1_200)], 2_000), []);
        assert_eq!(
            returned(&lease, &[piece(3, 9_000)], 9_500),
            [record(3, 5_000)],
            "never past the lease's end"
        );
        assert_eq!(
            returned(&lease, &[piece(3, 3_000)], 2_000),
            [record(3, 2_000)],
            "nor past the return"
        );
        assert_eq!(
            returned(&lease, &[piece(8, 1_100), piece(8, 1_500)], 2_000),
            [record(2, 1_100), record(8, 1_500)],
            "never more than its count, cut from the oldest"
        );
    }

    #[test]
    fn pieces_are_kept_apart_near_the_limit_and_as_one_far_from_it() {
        let give_back = |others: u32| {
            let subject = Subject {
                now: 3_000,
                leases: vec![
                    Lease {
                        id: 1,
                        granted_at: 1_000,
                        until: 2_000,
                        count: 4,
                    },
                    Lease {
                        id: 2,
                        granted_at: 1_000,
                        until: 3_500,
                        count: others,
                    },
                ],
            };
            let ask = LeaseAsk {
                subject: "k".into(),
                budget: BUDGET,
                ask: Ask {
                    want: 0,
                    span_ms: 0,
                },
                returns: vec![Returned {
                    id: 1,
                    pieces: vec![
                        Piece {
                            count: 3,
                            until: 1_100,
                        },
                        Piece {
                            count: 1,
                            until: 1_800,
                        },
                    ],
                }],
            };
            ledger_plan(&ask, subject)
        };
        // 4 of 20 taken with 6 others: far; with 8 others, past half.
        let far = give_back(6);
        assert_eq!(far.pieces, []);
        assert_eq!(
            far.update,
            [Lease {
                id: 1,
                granted_at: 1_000,
                until: 1_800,
                count: 4
            }]
        );
        let near = give_back(8);
        assert_eq!(
            near.pieces,
            [(
                0,
                Lease {
                    id: -2,
                    granted_at: 1_000,
                    until: 1_100,
                    count: 3
                }
            )]
        );
        assert_eq!(near.update[0].until, 1_800);
        assert_eq!(near.update[0].count, 1);
    }

    fn ledger_plan(ask: &LeaseAsk, subject: Subject) -> Plan {
        let subjects = [(ask.subject.clone(), subject)].into_iter().collect();
        plan(std::slice::from_ref(ask), &subjects)
    }

    proptest! {
        /// Whatever the asks and their times, and whenever leases are given
        /// back, with whatever admissions in how many pieces: the
        /// admissions (those given back where they were; a lease never
        /// given back admits its count at any moments of its interval)
        /// never put more than the limit in a window.
        #[test]
        fn no_window_holds_more_than_the_limit(
            steps in proptest::collection::vec(
                (0i64..3_000, 0u32..30, 0i64..6_000,
                 proptest::option::of((0usize..40, 0u32..12, 1usize..4))),
                1..60),
            placement in proptest::collection::vec(0u32..1_000, 1..2_000),
        ) {
            let mut p = placement.iter().cycle();
            let mut place = |from: i64, to: i64| from + i64::from(*p.next().unwrap()) % (to - from + 1);
            let mut subject = Subject::default();
            // Every lease granted and whether it was given back.
            let mut granted: Vec<(Lease, bool)> = Vec::new();
            let mut at = Vec::new();
            let mut clock = 0;
            let mut next = 0;
            for (advance, want, span, give_back) in steps {
                clock += advance;
                subject.now = now(clock, Some(subject.now));
                let mut returns = Vec::new();
                if let Some((which, used, chunks)) = give_back {
                    let held: Vec<usize> = (0..granted.len()).filter(|&k| !granted[k].1).collect();
                    if let Some(&k) = held.get(which % held.len().max(1)) {
                        let (lease, back) = &mut granted[k];
                        *back = true;
                        let mut made: Vec<i64> = (0..used.min(lease.count))
                            .map(|_| place(lease.granted_at, lease.until.min(subject.now)))
                            .collect();
                        made.sort_unstable();
                        at.extend(&made);
                        let pieces = made
                            .chunks(made.len().div_ceil(chunks).max(1))
                            .map(|c| Piece { count: c.len() as u32, until: *c.last().unwrap() })
                            .collect();
                        returns.push(Returned { id: lease.id, pieces });
                    }
                }
                let ask = LeaseAsk {
                    subject: "k".into(),
                    budget: BUDGET,
                    ask: Ask { want, span_ms: span },
                    returns,
                };
                let plan = ledger_plan(&ask, subject.clone());
                let g = plan.answers[0];
                prop_assert!(g.until >= subject.now && g.until <= subject.now + BUDGET.window_ms);
                if g.count == 0 && want > 0 {
                    prop_assert!(g.retry_after_ms > 0);
                }
                // Written back as a backend does.
                subject.leases.retain(|l| !plan.delete.contains(&l.id));
                for u in &plan.update {
                    *subject.leases.iter_mut().find(|l| l.id == u.id).unwrap() = *u;
                }
                for (_, piece) in &plan.pieces {
                    next += 1;
                    subject.leases.push(Lease { id: next, ..*piece });
                }
                for (_, lease) in &plan.insert {
                    next += 1;
                    let lease = Lease { id: next, ..*lease };
                    subject.leases.push(lease);
                    granted.push((lease, false));
                }
            }
            for (lease, _) in granted.iter().filter(|(_, back)| !back) {
                for _ in 0..lease.count {
                    at.push(place(lease.granted_at, lease.until));
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

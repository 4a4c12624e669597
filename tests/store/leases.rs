//! `Store::lease` (docs/src/fleet-limits.md): rate-limit budget leased by
//! subject, in one transaction, by the rule of `rate::ledger`: half of what
//! is left at most, nothing past the limit (with how long until some is
//! free), leases given back with what they used, a subject's clock that
//! never goes back, and several processes asking at once never granted
//! more than the limit together.

use keysmith::rate::ledger::{Ask, Budget, LeaseAnswer, LeaseAsk, Piece, Returned};
use keysmith::store::Store;

use crate::backend::*;

const BUDGET: Budget = Budget {
    limit: 10,
    window_ms: 60_000,
};

fn ask(subject: &str, want: u32, returns: Vec<Returned>) -> LeaseAsk {
    LeaseAsk {
        subject: subject.into(),
        budget: BUDGET,
        ask: Ask {
            want,
            span_ms: 60_000,
        },
        returns,
    }
}

/// Lease `id` given back, with its admissions in `pieces`: (count, until).
fn back(id: i64, pieces: &[(u32, i64)]) -> Returned {
    Returned {
        id,
        pieces: pieces
            .iter()
            .map(|&(count, until)| Piece { count, until })
            .collect(),
    }
}

fn one(store: &mut dyn Store, asked: LeaseAsk) -> LeaseAnswer {
    let answers = store.lease(&[asked]).unwrap();
    assert_eq!(answers.len(), 1);
    answers[0]
}

fn budget_is_leased_by_the_ledger_s_rule_and_given_back(backend: &Backend) {
    let mut store = backend.open();
    let first = one(store.as_mut(), ask("k1", 100, vec![]));
    assert_eq!(first.grant.count, 5, "half of what is left");
    let id = first.id.expect("a lease has an id");
    assert_eq!(
        first.grant.until - first.grant.now,
        30_000,
        "half a window at most"
    );
    let counts: Vec<u32> = (0..4)
        .map(|_| one(store.as_mut(), ask("k1", 100, vec![])).grant.count)
        .collect();
    assert_eq!(counts, [2, 1, 1, 1]);
    let refused = one(store.as_mut(), ask("k1", 1, vec![]));
    assert_eq!((refused.grant.count, refused.id), (0, None));
    assert!(
        refused.grant.retry_after_ms > 0 && refused.grant.retry_after_ms <= 120_000,
        "{refused:?}"
    );
    // Another subject has its own budget.
    assert_eq!(
        one(store.as_mut(), ask("owner:acme", 100, vec![]))
            .grant
            .count,
        5
    );
    // The first lease given back with 2 of its 5 used, one at its grant
    // and one 5 ms later: 3 free again. (Given back after those 5 ms: a
    // piece never ends after the return.)
    let at = first.grant.now;
    std::thread::sleep(std::time::Duration::from_millis(10));
    let after = one(
        store.as_mut(),
        ask("k1", 100, vec![back(id, &[(1, at), (1, at + 5)])]),
    );
    assert_eq!(
        after.grant.count, 1,
        "half of the 3 given back, rounded down"
    );
    assert!(after.grant.now >= first.grant.now, "the clock went back");
    assert_eq!(
        backend.query_i64("SELECT sum(count) FROM rate_leases WHERE subject = 'k1'"),
        2 + 2 + 1 + 1 + 1 + 1
    );
    // Past half the limit, each piece is a record of its own, counted
    // until its own moment and a window.
    assert_eq!(
        backend.query_i64("SELECT count(*) FROM rate_leases WHERE subject = 'k1'"),
        7
    );
    assert_eq!(
        backend.query_i64(&format!(
            "SELECT count(*) FROM rate_leases WHERE subject = 'k1' AND granted_at = {at} \
             AND count = 1 AND until_at IN ({at}, {})",
            at + 5
        )),
        2
    );
    // Given back unused: deleted.
    let second = one(store.as_mut(), ask("owner:acme", 0, vec![]));
    assert_eq!(second.grant.count, 0);
    let acme = backend.query_i64("SELECT min(id) FROM rate_leases WHERE subject = 'owner:acme'");
    one(store.as_mut(), ask("owner:acme", 0, vec![back(acme, &[])]));
    assert_eq!(
        backend.query_i64("SELECT count(*) FROM rate_leases WHERE subject = 'owner:acme'"),
        0
    );
}

fn a_subject_s_clock_never_goes_back(backend: &Backend) {
    let mut store = backend.open();
    let first = one(store.as_mut(), ask("k1", 1, vec![]));
    // As if another process's clock had run an hour ahead.
    let ahead = first.grant.now + 3_600_000;
    backend.raw_execute(
        &format!("UPDATE rate_subjects SET clock = {ahead} WHERE subject = 'k1'"),
        &format!("UPDATE rate_subjects SET clock = {ahead} WHERE subject = 'k1'"),
    );
    let next = one(store.as_mut(), ask("k1", 1, vec![]));
    assert_eq!(next.grant.now, ahead);
}

fn processes_asking_at_once_are_granted_the_limit_at_most(backend: &Backend) {
    let granted: u32 = std::thread::scope(|s| {
        let asking: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut store = backend.open();
                    (0..20)
                        .map(|_| one(store.as_mut(), ask("busy", 3, vec![])).grant.count)
                        .sum::<u32>()
                })
            })
            .collect();
        asking.into_iter().map(|t| t.join().unwrap()).sum()
    });
    assert_eq!(granted, BUDGET.limit);
}

conformance! {
    budget_is_leased_by_the_ledger_s_rule_and_given_back,
    a_subject_s_clock_never_goes_back,
    processes_asking_at_once_are_granted_the_limit_at_most,
}

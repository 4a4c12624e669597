//! The process side of leases: admissions, pieces, renewals, give-backs.

use super::*;
use crate::rate::ledger::Grant;

const RATE: RateLimit = RateLimit {
    limit: 10,
    per_seconds: 4,
};

/// A lease of `count` for `lasts_ms`, answered to the ask `leases` makes for "k".
fn granted(leases: &Leases, now: Instant, count: u32, lasts_ms: i64) -> LeaseAsk {
    granted_to(leases, "k", now, count, lasts_ms)
}

fn granted_to(leases: &Leases, subject: &str, now: Instant, count: u32, lasts_ms: i64) -> LeaseAsk {
    let ask = leases.ask_now(subject, now).expect("no ask on its way");
    let answer = lease(7, count, 1_000, 1_000 + lasts_ms);
    leases.answered(std::slice::from_ref(&ask), Some(&[answer]), now, now);
    ask
}

/// The store's answer granting lease `id`: `count` places from `now` to
/// `until` on its clock, far from the limit.
fn lease(id: i64, count: u32, now: i64, until: i64) -> LeaseAnswer {
    LeaseAnswer {
        id: Some(id),
        grant: Grant {
            count,
            now,
            until,
            retry_after_ms: 0,
            near_limit: false,
        },
    }
}

fn back(id: i64, pieces: &[(u32, i64)]) -> Returned {
    Returned {
        id,
        pieces: pieces
            .iter()
            .map(|&(count, until)| Piece { count, until })
            .collect(),
    }
}

fn admitted(a: Admit) -> Admission {
    match a {
        Admit::Admitted(a) => a,
        other => panic!("not admitted: {other:?}"),
    }
}

#[test]
fn a_lease_admits_its_count_until_its_deadline_only() {
    let leases = Leases::default();
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    assert_eq!(leases.admit("k", RATE, t0), Admit::NeedsLease);
    granted(&leases, t0, 3, 500);
    leases.commit(admitted(leases.admit("k", RATE, t0)));
    let cancelled = admitted(leases.admit("k", RATE, at(10)));
    leases.cancel(cancelled);
    leases.commit(admitted(leases.admit("k", RATE, at(499))));
    assert_eq!(
        leases.admit("k", RATE, at(500)),
        Admit::NeedsLease,
        "past its deadline, its free place is not taken"
    );
    // Given back with what it used: two, each when it was made (the
    // store's clock read 1,000 at the grant), the cancelled one not.
    let ask = leases.ask_now("k", at(500)).unwrap();
    assert_eq!(ask.returns, [back(7, &[(1, 1_000), (1, 1_499)])]);
}

#[test]
fn a_lease_is_given_back_in_pieces_each_until_its_last_admission() {
    let leases = Leases::default();
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    assert_eq!(leases.admit("k", RATE, t0), Admit::NeedsLease);
    // 128 places for 6.4 s: a piece holds two admissions, or 100 ms.
    granted(&leases, t0, 128, 6_400);
    for ms in [0, 50, 60, 300, 330, 340, 350] {
        leases.commit(admitted(leases.admit("k", RATE, at(ms))));
    }
    let cancelled = admitted(leases.admit("k", RATE, at(500)));
    leases.cancel(cancelled);
    let ask = leases.ask_now("k", at(6_400)).unwrap();
    assert_eq!(
        ask.returns,
        [back(7, &[(2, 1_050), (1, 1_060), (2, 1_330), (2, 1_350)])],
        "the store's clock read 1,000 at the grant; the cancelled one is not counted"
    );
}

#[test]
fn subjects_are_looked_at_when_an_admission_flags_them_or_their_time_comes() {
    let leases = Leases::default();
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    for subject in ["k", "j"] {
        assert_eq!(leases.admit(subject, RATE, t0), Admit::NeedsLease);
        granted_to(&leases, subject, t0, 4, 400);
    }
    assert!(leases.asks(t0).is_empty(), "nothing due");
    // "k" used 3 of 4: flagged by its admission, renewed at the next tick.
    for _ in 0..3 {
        leases.commit(admitted(leases.admit("k", RATE, at(100))));
    }
    let renewed: Vec<String> = leases
        .asks(at(100))
        .into_iter()
        .map(|a| a.subject)
        .collect();
    assert_eq!(renewed, ["k"]);
    // "j", unused, is not renewed past half its 400 ms; its lease is given
    // back, unused, at the first look at due subjects (every 250 ms) after
    // its deadline.
    assert!(leases.asks(at(260)).is_empty());
    assert!(leases.asks(at(400)).is_empty(), "looked at due ones at 260");
    let given_back = leases.asks(at(510));
    assert_eq!(given_back.len(), 1, "{given_back:?}");
    assert_eq!(given_back[0].subject, "j");
    assert_eq!(given_back[0].ask.want, 0);
    assert_eq!(given_back[0].returns, [back(7, &[])]);
    // Nothing held, nothing used for a span (4 s): forgotten.
    leases.answered(&given_back, Some(&[]), at(510), at(510));
    assert!(leases.asks(at(4_100)).is_empty());
    assert!(!leases.state().subjects.contains_key("j"));
    assert!(
        leases.state().subjects.contains_key("k"),
        "its ask is on its way"
    );
}

#[test]
fn a_place_cancelled_after_its_lease_closed_stays_counted() {
    let leases = Leases::default();
    let t0 = Instant::now();
    assert_eq!(leases.admit("k", RATE, t0), Admit::NeedsLease);
    granted(&leases, t0, 1, 500);
    let only = admitted(leases.admit("k", RATE, t0));
    let ask = leases.ask_now("k", t0).unwrap();
    assert_eq!(
        ask.returns,
        [back(7, &[(1, 1_000)])],
        "closed used up, with the reservation"
    );
    leases.cancel(only);
    leases.answered(&[ask], None, t0, t0);
    assert_eq!(leases.admit("k", RATE, t0), Admit::NeedsLease);
}

#[test]
fn refused_by_the_store_until_the_moment_it_named() {
    let leases = Leases::default();
    let t0 = Instant::now();
    assert_eq!(leases.admit("k", RATE, t0), Admit::NeedsLease);
    let ask = leases.ask_now("k", t0).unwrap();
    let answer = LeaseAnswer {
        id: None,
        grant: Grant {
            count: 0,
            now: 0,
            until: 0,
            retry_after_ms: 300,
            near_limit: true,
        },
    };
    leases.answered(&[ask], Some(&[answer]), t0, t0);
    assert_eq!(
        leases.admit("k", RATE, t0 + Duration::from_millis(100)),
        Admit::Refused(Duration::from_millis(200))
    );
    assert_eq!(
        leases.admit("k", RATE, t0 + Duration::from_millis(300)),
        Admit::NeedsLease
    );
}

#[test]
fn a_changed_limit_closes_the_leases_of_the_old_one() {
    let leases = Leases::default();
    let t0 = Instant::now();
    assert_eq!(leases.admit("k", RATE, t0), Admit::NeedsLease);
    granted(&leases, t0, 5, 2_000);
    leases.commit(admitted(leases.admit("k", RATE, t0)));
    let lower = RateLimit {
        limit: 2,
        per_seconds: 4,
    };
    assert_eq!(leases.admit("k", lower, t0), Admit::NeedsLease);
    let ask = leases.ask_now("k", t0).unwrap();
    assert_eq!(ask.returns, [back(7, &[(1, 1_000)])]);
    assert_eq!(ask.budget.limit, 2);
}

#[test]
fn one_ask_at_a_time_and_renewed_ahead_when_running_low() {
    let leases = Leases::default();
    let t0 = Instant::now();
    assert_eq!(leases.admit("k", RATE, t0), Admit::NeedsLease);
    let ask = leases.ask_now("k", t0).unwrap();
    assert_eq!(ask.ask.want, 1, "a sixteenth of 10, at least one");
    assert_eq!(ask.ask.span_ms, 4_000);
    assert!(leases.ask_now("k", t0).is_none(), "one on its way already");
    // Half the window asked for, as the ledger grants.
    let answer = lease(7, 4, 0, 2_000);
    leases.answered(&[ask], Some(&[answer]), t0, t0);
    assert!(leases.asks(t0).is_empty(), "four left of four");
    assert!(
        leases.asks(t0 + Duration::from_millis(900)).is_empty(),
        "granted for 2 s: not half past yet"
    );
    leases.commit(admitted(leases.admit("k", RATE, t0)));
    let at = t0 + Duration::from_millis(1_200);
    leases.commit(admitted(leases.admit("k", RATE, at)));
    assert!(
        leases.asks(at).is_empty(),
        "half used, 800 ms of 2 s left: not yet"
    );
    let at = t0 + Duration::from_millis(1_600);
    leases.commit(admitted(leases.admit("k", RATE, at)));
    let renewals = leases.asks(at);
    assert_eq!(
        renewals.len(),
        1,
        "under a quarter of its time left: renewed"
    );
    assert!(renewals[0].ask.want >= 1);
    assert!(renewals[0].returns.is_empty(), "the lease is still held");
    let answer = lease(8, 4, 1_600, 3_600);
    leases.answered(&renewals, Some(&[answer]), at, at);
    assert!(
        leases.asks(at + Duration::from_millis(100)).is_empty(),
        "renewed: the older lease near its end asks for nothing more"
    );
}

#[test]
fn a_lease_a_request_waits_for_is_not_given_back_as_idle() {
    let leases = Leases::default();
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    assert_eq!(leases.admit("k", RATE, t0), Admit::NeedsLease);
    assert!(leases.asks(t0).is_empty());
    // Two seconds later (idle past a quarter of its 4 s span), a request
    // needs a lease again and waits for it.
    assert_eq!(leases.admit("k", RATE, at(2_000)), Admit::NeedsLease);
    let ask = leases.ask_now("k", at(2_000)).unwrap();
    let answer = lease(9, 2, 1_000, 2_000);
    leases.answered(&[ask], Some(&[answer]), at(2_000), at(2_010));
    assert!(
        leases.asks(at(2_300)).is_empty(),
        "not given back before the request takes its place"
    );
    leases.commit(admitted(leases.admit("k", RATE, at(2_310))));
}

/// Two leases of "k" held: lease 7 (granted as `first` answers) from t0
/// for 2 s, admitted at 0 and 900 ms, and lease 8 from 1,600 ms, when 7
/// was past three quarters of its time. The asks due at 2,100 ms, after
/// 7's deadline, with an admission from 8.
fn asks_after_the_first_of_two_leases_closed(first: LeaseAnswer) -> (Leases, Vec<LeaseAsk>) {
    let leases = Leases::default();
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    assert_eq!(leases.admit("k", RATE, t0), Admit::NeedsLease);
    let ask = leases.ask_now("k", t0).unwrap();
    leases.answered(&[ask], Some(&[first]), t0, t0);
    leases.commit(admitted(leases.admit("k", RATE, t0)));
    leases.commit(admitted(leases.admit("k", RATE, at(900))));
    let renewal = leases.asks(at(1_600));
    assert_eq!(renewal.len(), 1);
    assert!(renewal[0].ask.want > 0, "a renewal, nothing to give back");
    leases.answered(
        &renewal,
        Some(&[lease(8, 4, 2_600, 4_600)]),
        at(1_600),
        at(1_600),
    );
    leases.commit(admitted(leases.admit("k", RATE, at(2_100))));
    let asks = leases.asks(at(2_100));
    (leases, asks)
}

#[test]
fn a_lease_granted_far_from_the_limit_goes_back_with_the_next_ask() {
    let (leases, asks) = asks_after_the_first_of_two_leases_closed(lease(7, 4, 1_000, 3_000));
    assert!(asks.is_empty(), "no call of its own: {asks:?}");
    // At 3,200 ms, under a quarter of lease 8's time is left: its renewal
    // gives 7 back.
    let t = leases.state().subjects["k"].since;
    let at = t + Duration::from_millis(1_600);
    leases.commit(admitted(leases.admit("k", RATE, at)));
    let renewal = leases.asks(at);
    assert_eq!(renewal.len(), 1);
    assert!(renewal[0].ask.want > 0);
    assert_eq!(renewal[0].returns, [back(7, &[(1, 1_000), (1, 1_900)])]);
}

#[test]
fn a_lease_granted_near_the_limit_goes_back_at_once() {
    let mut near = lease(7, 4, 1_000, 3_000);
    near.grant.near_limit = true;
    let (_, asks) = asks_after_the_first_of_two_leases_closed(near);
    assert_eq!(asks.len(), 1, "{asks:?}");
    assert_eq!(asks[0].ask.want, 0, "lease 8 has room and time");
    assert_eq!(asks[0].returns, [back(7, &[(1, 1_000), (1, 1_900)])]);
}

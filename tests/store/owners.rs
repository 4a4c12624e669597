//! Owners (docs/src/owners.md): a record made with the first key that names
//! one, changed by the operations of `lifecycle` (set, disable, delete) with
//! events of their own; a disabled owner refuses every key of it; an
//! owner's uses are shared by its keys and spent with theirs, exactly.

use keysmith::Code;
use keysmith::lifecycle::{self, OwnerDeletion};
use keysmith::model::{NewKey, OwnerEdit};
use keysmith::store::{EventFilter, Store};

use crate::backend::*;

fn owned(name: &str, owner: &str) -> NewKey {
    NewKey {
        owner: Some(owner.into()),
        ..spec(name)
    }
}

fn owner_events(store: &mut dyn Store, owner: &str) -> Vec<(String, Option<String>)> {
    let mut all = Vec::new();
    store
        .events(
            &EventFilter {
                owner: Some(owner),
                ..EventFilter::default()
            },
            &mut |e| {
                all.push((e.action, e.key_id));
                Ok(())
            },
        )
        .unwrap();
    all
}

fn an_owner_is_made_with_its_first_key_and_changed_with_events(backend: &Backend) {
    let mut store = backend.open();
    assert_eq!(store.owner("acme").unwrap(), None);
    let (a, _) = create(store.as_mut(), &owned("a", "acme"), T0);
    let (b, _) = create(store.as_mut(), &owned("b", "acme"), T0 + 1);
    let owner = store
        .owner("acme")
        .unwrap()
        .expect("made with the first key");
    assert_eq!((owner.keys, owner.disabled), (2, false));

    let edit = OwnerEdit {
        remaining_uses: Some(Some(10)),
        ..OwnerEdit::default()
    };
    let (after, fields) =
        lifecycle::set_owner(store.as_mut(), "acme", &edit, change(T0 + 2)).unwrap();
    assert_eq!(
        (after.limits.remaining_uses, fields),
        (Some(10), vec!["uses left"])
    );
    // The same again changes and records nothing.
    let (_, fields) = lifecycle::set_owner(store.as_mut(), "acme", &edit, change(T0 + 3)).unwrap();
    assert!(fields.is_empty());
    let (_, changed) = lifecycle::set_owner_disabled(store.as_mut(), "acme", true, change(T0 + 4))
        .unwrap()
        .unwrap();
    assert!(changed);
    assert_eq!(
        lifecycle::set_owner_disabled(store.as_mut(), "nobody", true, change(T0 + 4)).unwrap(),
        None
    );
    assert_eq!(
        owner_events(store.as_mut(), "acme"),
        vec![
            ("disable".to_owned(), None),
            ("edit".to_owned(), None),
            ("create".to_owned(), Some(b.id.clone())),
            ("create".to_owned(), Some(a.id.clone())),
        ]
    );
    // Not deleted while it has keys; deleted once it has none, history kept.
    assert!(matches!(
        lifecycle::delete_owner(store.as_mut(), "acme", change(T0 + 5)).unwrap(),
        OwnerDeletion::HasKeys(2)
    ));
    lifecycle::delete(store.as_mut(), &a.id, change(T0 + 6)).unwrap();
    lifecycle::delete(store.as_mut(), &b.id, change(T0 + 6)).unwrap();
    assert!(matches!(
        lifecycle::delete_owner(store.as_mut(), "acme", change(T0 + 7)).unwrap(),
        OwnerDeletion::Deleted(_)
    ));
    assert_eq!(store.owner("acme").unwrap(), None);
    assert_eq!(
        owner_events(store.as_mut(), "acme")[0],
        ("delete".to_owned(), None)
    );
    assert!(matches!(
        lifecycle::delete_owner(store.as_mut(), "acme", change(T0 + 8)).unwrap(),
        OwnerDeletion::NoSuchOwner
    ));
}

fn a_disabled_owner_refuses_its_keys_and_leaves_their_status(backend: &Backend) {
    let mut store = backend.open();
    let (a, _) = create(store.as_mut(), &owned("a", "acme"), T0);
    let (other, _) = create(store.as_mut(), &owned("other", "globex"), T0);
    lifecycle::set_owner_disabled(store.as_mut(), "acme", true, change(T0 + 1)).unwrap();
    assert_eq!(
        verify_code(store.as_mut(), a.secret.expose(), T0 + 2),
        Code::Disabled
    );
    assert_eq!(
        verify_code(store.as_mut(), other.secret.expose(), T0 + 2),
        Code::Valid
    );
    assert!(!key(store.as_mut(), &a.id).disabled);
    // A key made later for the disabled owner is refused too.
    let (later, _) = create(store.as_mut(), &owned("later", "acme"), T0 + 3);
    assert_eq!(
        verify_code(store.as_mut(), later.secret.expose(), T0 + 4),
        Code::Disabled
    );
    // Switched back on, a key disabled on its own stays off.
    lifecycle::set_disabled(store.as_mut(), &later.id, true, change(T0 + 5)).unwrap();
    lifecycle::set_owner_disabled(store.as_mut(), "acme", false, change(T0 + 6)).unwrap();
    assert_eq!(
        verify_code(store.as_mut(), a.secret.expose(), T0 + 7),
        Code::Valid
    );
    assert_eq!(
        verify_code(store.as_mut(), later.secret.expose(), T0 + 7),
        Code::Disabled
    );
}

fn an_owner_s_uses_are_shared_by_its_keys_and_spent_with_theirs(backend: &Backend) {
    let mut store = backend.open();
    let limited = NewKey {
        limits: keysmith::model::Limits {
            remaining_uses: Some(2),
            ..Default::default()
        },
        ..owned("limited", "acme")
    };
    let (a, _) = create(store.as_mut(), &owned("a", "acme"), T0);
    let (b, _) = create(store.as_mut(), &limited, T0);
    let edit = OwnerEdit {
        remaining_uses: Some(Some(3)),
        ..OwnerEdit::default()
    };
    lifecycle::set_owner(store.as_mut(), "acme", &edit, change(T0)).unwrap();
    // Three uses in all, whichever key; b also stops at its own two.
    let codes: Vec<Code> = [&b, &b, &b, &a, &a, &a]
        .iter()
        .map(|k| verify_code(store.as_mut(), k.secret.expose(), T0 + 1))
        .collect();
    assert_eq!(
        codes,
        [
            Code::Valid,
            Code::Valid,
            Code::UsageExceeded,
            Code::Valid,
            Code::UsageExceeded,
            Code::UsageExceeded
        ]
    );
    let owner = store.owner("acme").unwrap().unwrap();
    assert_eq!(owner.limits.remaining_uses, Some(0));
    assert_eq!(key(store.as_mut(), &b.id).limits.remaining_uses, Some(0));
    assert_eq!(key(store.as_mut(), &a.id).limits.remaining_uses, None);
    assert_eq!(key(store.as_mut(), &a.id).use_count, 1);
    assert_eq!(key(store.as_mut(), &b.id).use_count, 2);

    // spend_uses in one call: each entry in order takes its whole cost from
    // the key and the owner, or nothing; an id may repeat.
    lifecycle::set_owner(
        store.as_mut(),
        "acme",
        &OwnerEdit {
            remaining_uses: Some(Some(4)),
            ..OwnerEdit::default()
        },
        change(T0 + 2),
    )
    .unwrap();
    let before = key(store.as_mut(), &a.id).use_count;
    let spent = store
        .spend_uses(
            &[
                (a.id.as_str(), 3),
                (b.id.as_str(), 2),
                (a.id.as_str(), 2),
                (a.id.as_str(), 1),
            ],
            T0 + 3,
        )
        .unwrap();
    let got: Vec<(bool, Option<i64>, Option<i64>)> = spent
        .iter()
        .map(|s| {
            let s = s.unwrap();
            (s.granted, s.remaining, s.owner_remaining)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (true, None, Some(1)),
            (false, Some(0), Some(1)),
            (false, None, Some(1)),
            (true, None, Some(0)),
        ]
    );
    assert_eq!(
        store.owner("acme").unwrap().unwrap().limits.remaining_uses,
        Some(0)
    );
    // One use per granted entry, whatever it cost.
    assert_eq!(key(store.as_mut(), &a.id).use_count, before + 2);
}

fn a_copy_carries_owners_with_their_status_and_limits(backend: &Backend) {
    let mut from = backend.open();
    create(from.as_mut(), &owned("a", "acme"), T0);
    let edit = OwnerEdit {
        remaining_uses: Some(Some(7)),
        rate: Some(Some(keysmith::model::RateLimit {
            limit: 5,
            per_seconds: 60,
        })),
        refill: Some(Some(keysmith::model::Refill::new(
            keysmith::model::RefillEvery::Month(15),
            7,
            T0,
        ))),
        allow_ip: Some(vec!["203.0.113.0/24".parse().unwrap()]),
    };
    lifecycle::set_owner(from.as_mut(), "acme", &edit, change(T0)).unwrap();
    lifecycle::set_owner(from.as_mut(), "lonely", &edit, change(T0)).unwrap();
    lifecycle::set_owner_disabled(from.as_mut(), "lonely", true, change(T0)).unwrap();
    let target = backend.another();
    let mut to = target.open();
    let copied = keysmith::store::copy(from.as_mut(), to.as_mut()).unwrap();
    assert_eq!(copied.owners, 2);
    let listed = |store: &mut dyn Store| {
        let mut all = Vec::new();
        store
            .list_owners(&mut |o| {
                all.push(o.clone());
                Ok(())
            })
            .unwrap();
        all
    };
    assert_eq!(listed(to.as_mut()), listed(from.as_mut()));
    assert_eq!(export(to.as_mut()), export(from.as_mut()));
}

conformance! {
    an_owner_is_made_with_its_first_key_and_changed_with_events,
    a_disabled_owner_refuses_its_keys_and_leaves_their_status,
    an_owner_s_uses_are_shared_by_its_keys_and_spent_with_theirs,
    a_copy_carries_owners_with_their_status_and_limits,
    a_due_refill_is_written_by_the_spending_that_uses_it,
}

/// A refill due is seen by a verification without a write, and written by
/// the spending that uses it, for keys and owners alike.
fn a_due_refill_is_written_by_the_spending_that_uses_it(backend: &Backend) {
    use keysmith::model::{Limits, Refill, RefillEvery};
    let mut store = backend.open();
    let day = 86_400;
    let start = T0 - T0.rem_euclid(day);
    let refilled = |uses| Limits {
        remaining_uses: Some(uses),
        refill: Some(Refill::new(RefillEvery::Day, 2, start + 10)),
        ..Limits::default()
    };
    let spec = NewKey {
        limits: refilled(1),
        ..owned("daily", "acme")
    };
    let (a, _) = create(store.as_mut(), &spec, start + 10);
    let edit = OwnerEdit {
        remaining_uses: Some(Some(3)),
        refill: Some(refilled(3).refill),
        ..OwnerEdit::default()
    };
    lifecycle::set_owner(store.as_mut(), "acme", &edit, change(start + 10)).unwrap();
    let full = a.secret.expose().to_owned();
    let mut verify = |at| verify_code(store.as_mut(), &full, at);
    assert_eq!(verify(start + 20), Code::Valid);
    assert_eq!(verify(start + 30), Code::UsageExceeded);
    // The next day: 2 again for the key, 3 for the owner... spent by the key's 2.
    assert_eq!(verify(start + day + 5), Code::Valid);
    assert_eq!(verify(start + day + 6), Code::Valid);
    assert_eq!(verify(start + day + 7), Code::UsageExceeded);
    let k = key(store.as_mut(), &a.id);
    assert_eq!(k.limits.remaining_uses, Some(0));
    assert_eq!(k.limits.refill.unwrap().refilled_at, start + day);
    let owner = store.owner("acme").unwrap().unwrap();
    assert_eq!(owner.limits.remaining_uses, Some(1));
    assert_eq!(owner.limits.refill.unwrap().refilled_at, start + day);
    // Seen, not written, a day later.
    assert_eq!(
        key(store.as_mut(), &a.id)
            .limits
            .uses_left_at(start + 2 * day),
        Some(2)
    );
    assert_eq!(key(store.as_mut(), &a.id).limits.remaining_uses, Some(0));
}

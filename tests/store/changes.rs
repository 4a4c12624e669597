//! The operations of src/lifecycle/ over each backend's `Transaction`: create,
//! set_disabled, edit, rotate, delete and take_back.

use keysmith::Code;
use keysmith::key_format::KeyHash;
use keysmith::lifecycle::{self, Rotation};
use keysmith::model::NewKey;
use keysmith::model::{KeyEdit, Retire};
use keysmith::store::KeyRecord;

use crate::backend::*;

fn rotated(rotation: Rotation) -> lifecycle::Rotated {
    match rotation {
        Rotation::Rotated(done) => *done,
        other => panic!("not rotated: {other:?}"),
    }
}

fn create_stores_the_spec_and_records_an_event(backend: &Backend) {
    let mut store = backend.open();
    let spec = NewKey {
        name: "Data Sync".into(),
        description: Some("for the nightly job".into()),
        service: Some("sms".into()),
        prefix: "acme".into(),
        expires_in: Some(86_400),
        limits: Default::default(),
        owner: None,
        meta: None,
    };
    let (minted, record) = create(store.as_mut(), &spec, T0);
    let full = minted.secret.expose();
    assert!(full.starts_with(&format!("acme_{}_", minted.id)));
    assert_eq!(
        keysmith::parse(full).expect("a well-formed key").id,
        minted.id
    );
    assert_eq!(
        record,
        KeyRecord {
            id: minted.id.clone(),
            hash: KeyHash::of(full),
            prefix: "acme".into(),
            name: "Data Sync".into(),
            description: Some("for the nightly job".into()),
            service: Some("sms".into()),
            disabled: false,
            created_at: T0,
            expires_at: Some(T0 + 86_400),
            last_used_at: None,
            use_count: 0,
            rotated_from: None,
            replaced_by: None,
            limits: Default::default(),
            owner: None,
            meta: None,
        }
    );
    assert_eq!(key(store.as_mut(), &minted.id), record);
    let history = events(store.as_mut(), None, None);
    assert_eq!(history.len(), 1);
    let event = &history[0];
    assert_eq!(
        (
            event.at,
            event.action.as_str(),
            event.key_id.as_deref().unwrap(),
            event.actor.as_str()
        ),
        (T0, "create", minted.id.as_str(), ACTOR)
    );
    assert_eq!(event.detail, None);
    assert_eq!(verify_code(store.as_mut(), full, T0 + 1), Code::Valid);
}

/// The store keeps the SHA-256 of the full key, never the key or its secret.
fn the_store_holds_the_hash_never_the_key(backend: &Backend) {
    let mut store = backend.open();
    let (minted, _) = create(store.as_mut(), &spec("a"), T0);
    let (rotated_minted, rotated_key) = {
        let done = rotated(
            lifecycle::rotate(store.as_mut(), &minted.id, Retire::Now, change(T0 + 1)).unwrap(),
        );
        (done.minted, done.new)
    };
    let dump = backend.raw_dump();
    for full in [minted.secret.expose(), rotated_minted.secret.expose()] {
        let secret = &full[full.len() - 38..full.len() - 6];
        for forbidden in [
            full.to_owned(),
            secret.to_owned(),
            hex(full.as_bytes()),
            hex(secret.as_bytes()),
        ] {
            assert!(
                !dump.contains(&forbidden),
                "the store holds {forbidden:?}:\n{dump}"
            );
        }
        assert!(
            dump.contains(&hex(&KeyHash::of(full).0)),
            "the store lacks the key's SHA-256:\n{dump}"
        );
    }
    assert_eq!(
        rotated_key.hash,
        KeyHash::of(rotated_minted.secret.expose())
    );
}

fn set_disabled_twice_records_one_event(backend: &Backend) {
    let mut store = backend.open();
    let (minted, created) = create(store.as_mut(), &spec("a"), T0);
    let full = minted.secret.expose();

    let first = lifecycle::set_disabled(store.as_mut(), &minted.id, true, change(T0 + 1))
        .unwrap()
        .expect("the key");
    assert!(first.changed && first.key.disabled);
    let second = lifecycle::set_disabled(store.as_mut(), &minted.id, true, change(T0 + 2))
        .unwrap()
        .expect("the key");
    assert!(!second.changed && second.key.disabled);
    assert!(key(store.as_mut(), &minted.id).disabled);
    assert_eq!(verify_code(store.as_mut(), full, T0 + 3), Code::Disabled);

    let on = lifecycle::set_disabled(store.as_mut(), &minted.id, false, change(T0 + 4))
        .unwrap()
        .unwrap();
    assert!(on.changed && !on.key.disabled);
    let again = lifecycle::set_disabled(store.as_mut(), &minted.id, false, change(T0 + 5))
        .unwrap()
        .unwrap();
    assert!(!again.changed);
    assert_eq!(verify_code(store.as_mut(), full, T0 + 6), Code::Valid);

    let history = events(store.as_mut(), Some(&minted.id), None);
    assert_eq!(
        history
            .iter()
            .map(|e| (e.action.as_str(), e.at))
            .collect::<Vec<_>>(),
        vec![("enable", T0 + 4), ("disable", T0 + 1), ("create", T0)]
    );
    // The key is otherwise as it was (the valid verify was a use).
    assert_eq!(
        key(store.as_mut(), &minted.id),
        KeyRecord {
            last_used_at: Some(T0 + 6),
            use_count: 1,
            ..created
        }
    );

    assert!(
        lifecycle::set_disabled(store.as_mut(), "nosuchkey000", true, change(T0))
            .unwrap()
            .is_none()
    );
    assert_eq!(events(store.as_mut(), None, None).len(), 3);
}

fn edit_records_the_fields_it_changed(backend: &Backend) {
    let mut store = backend.open();
    let spec = NewKey {
        description: Some("old".into()),
        expires_in: Some(100),
        ..spec("old name")
    };
    let (minted, before) = create(store.as_mut(), &spec, T0);

    let rename = KeyEdit {
        name: Some("new name".into()),
        service: Some(Some("sms".into())),
        ..KeyEdit::default()
    };
    let (changed, fields) = lifecycle::edit(store.as_mut(), &minted.id, &rename, change(T0 + 1))
        .unwrap()
        .expect("the key");
    assert!(changed.changed);
    assert_eq!(fields, vec!["name", "service"]);
    let stored = key(store.as_mut(), &minted.id);
    assert_eq!(stored, changed.key);
    assert_eq!(
        stored,
        KeyRecord {
            name: "new name".into(),
            service: Some("sms".into()),
            ..before.clone()
        }
    );

    let clear = KeyEdit {
        description: Some(None),
        expires_at: Some(None),
        ..KeyEdit::default()
    };
    let (_, fields) = lifecycle::edit(store.as_mut(), &minted.id, &clear, change(T0 + 2))
        .unwrap()
        .unwrap();
    assert_eq!(fields, vec!["description", "expiry"]);
    let stored = key(store.as_mut(), &minted.id);
    assert_eq!((stored.description, stored.expires_at), (None, None));

    let set = KeyEdit {
        description: Some(Some("new".into())),
        expires_at: Some(Some(T0 + 500)),
        ..KeyEdit::default()
    };
    lifecycle::edit(store.as_mut(), &minted.id, &set, change(T0 + 3))
        .unwrap()
        .unwrap();
    let stored = key(store.as_mut(), &minted.id);
    assert_eq!(stored.description.as_deref(), Some("new"));
    assert_eq!(stored.expires_at, Some(T0 + 500));
    // Nothing edit cannot change moved.
    assert_eq!(
        (
            &stored.id,
            stored.hash,
            &stored.prefix,
            stored.created_at,
            stored.disabled
        ),
        (
            &before.id,
            before.hash,
            &before.prefix,
            before.created_at,
            before.disabled
        )
    );
    assert_eq!(
        verify_code(store.as_mut(), minted.secret.expose(), T0 + 499),
        Code::Valid
    );
    assert_eq!(
        verify_code(store.as_mut(), minted.secret.expose(), T0 + 500),
        Code::Expired
    );

    let history = events(store.as_mut(), Some(&minted.id), None);
    assert_eq!(
        history
            .iter()
            .map(|e| (e.action.as_str(), e.detail.as_deref(), e.at))
            .collect::<Vec<_>>(),
        vec![
            ("edit", Some("description, expiry"), T0 + 3),
            ("edit", Some("description, expiry"), T0 + 2),
            ("edit", Some("name, service"), T0 + 1),
            ("create", None, T0),
        ]
    );
}

fn an_edit_that_changes_nothing_records_nothing(backend: &Backend) {
    let mut store = backend.open();
    let spec = NewKey {
        description: Some("d".into()),
        service: Some("sms".into()),
        expires_in: Some(100),
        ..spec("n")
    };
    let (minted, before) = create(store.as_mut(), &spec, T0);
    let same = KeyEdit {
        name: Some("n".into()),
        description: Some(Some("d".into())),
        service: Some(Some("sms".into())),
        expires_at: Some(Some(T0 + 100)),
        scopes: Some(Vec::new()),
        remaining_uses: Some(None),
        rate: Some(None),
        refill: Some(None),
        allow_ip: Some(Vec::new()),
        owner: Some(None),
        meta: Some(None),
    };
    for edit in [KeyEdit::default(), same] {
        let (changed, fields) = lifecycle::edit(store.as_mut(), &minted.id, &edit, change(T0 + 1))
            .unwrap()
            .unwrap();
        assert!(!changed.changed && fields.is_empty(), "{fields:?}");
        assert_eq!(changed.key, before);
    }
    assert_eq!(key(store.as_mut(), &minted.id), before);
    assert_eq!(events(store.as_mut(), None, None).len(), 1);
    let rename = KeyEdit {
        name: Some("x".into()),
        ..KeyEdit::default()
    };
    assert!(
        lifecycle::edit(store.as_mut(), "nosuchkey000", &rename, change(T0))
            .unwrap()
            .is_none()
    );
    assert_eq!(events(store.as_mut(), None, None).len(), 1);
}

fn rotation_links_both_keys(backend: &Backend) {
    let mut store = backend.open();
    let spec = NewKey {
        description: Some("d".into()),
        service: Some("sms".into()),
        prefix: "acme".into(),
        expires_in: Some(1_000),
        ..spec("web")
    };
    let (old_minted, old) = create(store.as_mut(), &spec, T0);
    store.record_uses(&[old.id.as_str()], T0 + 1).unwrap();
    let before = key(store.as_mut(), &old.id);

    let done =
        rotated(lifecycle::rotate(store.as_mut(), &old.id, Retire::Now, change(T0 + 2)).unwrap());
    assert_eq!(done.before, before);
    let new = key(store.as_mut(), &done.new.id);
    assert_eq!(new, done.new);
    assert_eq!(
        new,
        KeyRecord {
            id: done.minted.id.clone(),
            hash: KeyHash::of(done.minted.secret.expose()),
            prefix: "acme".into(),
            name: "web".into(),
            description: Some("d".into()),
            service: Some("sms".into()),
            disabled: false,
            created_at: T0 + 2,
            expires_at: None,
            last_used_at: None,
            use_count: 0,
            rotated_from: Some(old.id.clone()),
            replaced_by: None,
            limits: Default::default(),
            owner: None,
            meta: None,
        }
    );
    let retired = key(store.as_mut(), &old.id);
    assert_eq!(retired, done.retired);
    assert_eq!(
        retired,
        KeyRecord {
            disabled: true,
            replaced_by: Some(new.id.clone()),
            ..before.clone()
        },
        "retired now: disabled, linked, the rest (uses too) as it was"
    );

    let rotate_events = |store: &mut dyn keysmith::Store, id: &str| {
        events(store, Some(id), None)
            .into_iter()
            .map(|e| (e.action, e.detail, e.at))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rotate_events(store.as_mut(), &old.id)[0],
        ("rotate".into(), Some(new.id.clone()), T0 + 2)
    );
    assert_eq!(
        rotate_events(store.as_mut(), &new.id),
        vec![("rotate".into(), Some(old.id.clone()), T0 + 2)],
        "the replacement's history is its rotate event"
    );
    assert_eq!(
        verify_code(store.as_mut(), old_minted.secret.expose(), T0 + 3),
        Code::Disabled
    );
    assert_eq!(
        verify_code(store.as_mut(), done.minted.secret.expose(), T0 + 3),
        Code::Valid
    );

    // The replacement can itself be rotated: a chain.
    let next =
        rotated(lifecycle::rotate(store.as_mut(), &new.id, Retire::Now, change(T0 + 4)).unwrap());
    assert_eq!(next.new.rotated_from.as_deref(), Some(new.id.as_str()));
    assert_eq!(
        key(store.as_mut(), &new.id).replaced_by,
        Some(next.new.id.clone())
    );
    assert_eq!(
        key(store.as_mut(), &old.id).replaced_by,
        Some(new.id.clone())
    );
}

fn rotation_at_a_time_keeps_the_earlier_expiry(backend: &Backend) {
    let mut store = backend.open();
    let expiring = |secs| NewKey {
        expires_in: secs,
        ..spec("k")
    };
    // No expiry: expires at the rotation's time, stays enabled until then.
    let (a, _) = create(store.as_mut(), &expiring(None), T0);
    let done = rotated(
        lifecycle::rotate(store.as_mut(), &a.id, Retire::At(T0 + 100), change(T0 + 1)).unwrap(),
    );
    let old = key(store.as_mut(), &a.id);
    assert_eq!(old, done.retired);
    assert!(!old.disabled);
    assert_eq!(old.expires_at, Some(T0 + 100));
    assert_eq!(old.replaced_by.as_deref(), Some(done.new.id.as_str()));
    assert_eq!(
        verify_code(store.as_mut(), a.secret.expose(), T0 + 99),
        Code::Valid
    );
    assert_eq!(
        verify_code(store.as_mut(), a.secret.expose(), T0 + 100),
        Code::Expired
    );
    assert_eq!(
        verify_code(store.as_mut(), done.minted.secret.expose(), T0 + 100),
        Code::Valid
    );

    // An expiry later than the grace: the grace wins.
    let (b, _) = create(store.as_mut(), &expiring(Some(1_000)), T0);
    rotated(
        lifecycle::rotate(store.as_mut(), &b.id, Retire::At(T0 + 100), change(T0 + 1)).unwrap(),
    );
    assert_eq!(key(store.as_mut(), &b.id).expires_at, Some(T0 + 100));

    // An expiry earlier than the grace: the key keeps it.
    let (c, _) = create(store.as_mut(), &expiring(Some(50)), T0);
    rotated(
        lifecycle::rotate(store.as_mut(), &c.id, Retire::At(T0 + 100), change(T0 + 1)).unwrap(),
    );
    let c_after = key(store.as_mut(), &c.id);
    assert_eq!(c_after.expires_at, Some(T0 + 50));
    assert!(!c_after.disabled);
    assert!(c_after.replaced_by.is_some());
}

fn a_replaced_or_missing_key_is_not_rotated(backend: &Backend) {
    let mut store = backend.open();
    let (a, _) = create(store.as_mut(), &spec("a"), T0);
    let first = rotated(
        lifecycle::rotate(store.as_mut(), &a.id, Retire::At(T0 + 100), change(T0 + 1)).unwrap(),
    );
    let keys_before = all_keys(store.as_mut());
    let events_before = events(store.as_mut(), None, None);
    for retire in [Retire::Now, Retire::At(T0 + 10)] {
        match lifecycle::rotate(store.as_mut(), &a.id, retire, change(T0 + 2)).unwrap() {
            Rotation::AlreadyReplaced(by) => assert_eq!(by, first.new.id),
            other => panic!("rotated again: {other:?}"),
        }
    }
    assert!(matches!(
        lifecycle::rotate(store.as_mut(), "nosuchkey000", Retire::Now, change(T0 + 2)).unwrap(),
        Rotation::NoSuchKey
    ));
    assert_eq!(all_keys(store.as_mut()), keys_before, "nothing changed");
    assert_eq!(
        events(store.as_mut(), None, None),
        events_before,
        "nothing recorded"
    );
}

fn delete_keeps_the_history_and_removes_the_uses(backend: &Backend) {
    let mut store = backend.open();
    let (a, a_key) = create(store.as_mut(), &spec("a"), T0);
    let (b, _) = create(store.as_mut(), &spec("b"), T0);
    store.record_uses(&[a.id.as_str(), &a.id], T0 + 1).unwrap();
    store.record_uses(&[b.id.as_str()], T0 + 1).unwrap();
    assert_eq!(backend.query_i64("SELECT count(*) FROM usage"), 2);

    let gone = lifecycle::delete(store.as_mut(), &a.id, change(T0 + 2))
        .unwrap()
        .expect("the key");
    assert_eq!(
        gone,
        KeyRecord {
            last_used_at: Some(T0 + 1),
            use_count: 2,
            ..a_key
        }
    );
    assert_eq!(store.key_by_id(&a.id).unwrap(), None);
    let mut found = None;
    store
        .credentials(&[a.id.as_str()], &mut |_, c| {
            found = c;
            Ok(())
        })
        .unwrap();
    assert_eq!(found, None);
    assert_eq!(
        verify_code(store.as_mut(), a.secret.expose(), T0 + 3),
        Code::NotFound
    );
    assert_eq!(ids(&all_keys(store.as_mut())), vec![b.id.clone()]);
    assert_eq!(
        backend.query_i64("SELECT count(*) FROM usage"),
        1,
        "a's uses are gone"
    );
    assert_eq!(key(store.as_mut(), &b.id).use_count, 1, "b keeps its own");

    let history = events(store.as_mut(), Some(&a.id), None);
    assert_eq!(
        history
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        vec!["delete", "create"]
    );
    assert_eq!((history[0].at, history[0].actor.as_str()), (T0 + 2, ACTOR));

    assert_eq!(
        lifecycle::delete(store.as_mut(), &a.id, change(T0 + 4)).unwrap(),
        None
    );
    assert_eq!(
        events(store.as_mut(), None, None).len(),
        3,
        "a second delete records nothing"
    );
}

fn take_back_undoes_a_create(backend: &Backend) {
    let mut store = backend.open();
    let (keep, _) = create(store.as_mut(), &spec("keep"), T0);
    let (a, _) = create(store.as_mut(), &spec("a"), T0 + 1);
    let (b, _) = create(store.as_mut(), &spec("b"), T0 + 1);
    let removed = lifecycle::take_back(
        store.as_mut(),
        &[a.id.as_str(), "nosuchkey000", &b.id],
        None,
        change(T0 + 2),
    )
    .unwrap();
    assert_eq!(removed, 2);
    assert_eq!(ids(&all_keys(store.as_mut())), vec![keep.id.clone()]);
    assert_eq!(
        verify_code(store.as_mut(), a.secret.expose(), T0 + 3),
        Code::NotFound
    );
    for id in [&a.id, &b.id] {
        let history = events(store.as_mut(), Some(id), None);
        assert_eq!(
            history
                .iter()
                .map(|e| e.action.as_str())
                .collect::<Vec<_>>(),
            vec!["undo", "create"]
        );
        assert_eq!(history[0].at, T0 + 2);
        assert!(
            history[0]
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("not delivered"))
        );
    }
    assert!(events(store.as_mut(), Some("nosuchkey000"), None).is_empty());
    assert_eq!(
        lifecycle::take_back(store.as_mut(), &[a.id.as_str()], None, change(T0 + 4)).unwrap(),
        0
    );
    assert_eq!(events(store.as_mut(), None, None).len(), 5);
}

fn take_back_undoes_a_rotation(backend: &Backend) {
    let mut store = backend.open();
    let spec = NewKey {
        expires_in: Some(1_000),
        ..spec("web")
    };
    for retire in [Retire::Now, Retire::At(T0 + 10)] {
        let (old, _) = create(store.as_mut(), &spec, T0);
        store.record_uses(&[old.id.as_str()], T0 + 1).unwrap();
        let done =
            rotated(lifecycle::rotate(store.as_mut(), &old.id, retire, change(T0 + 2)).unwrap());
        let removed = lifecycle::take_back(
            store.as_mut(),
            &[done.new.id.as_str()],
            Some(&done.before),
            change(T0 + 3),
        )
        .unwrap();
        assert_eq!(removed, 1);
        assert_eq!(store.key_by_id(&done.new.id).unwrap(), None);
        assert_eq!(
            key(store.as_mut(), &old.id),
            done.before,
            "{retire:?}: disabled, expires_at and replaced_by as before, uses kept"
        );
        assert_eq!(
            verify_code(store.as_mut(), old.secret.expose(), T0 + 20),
            Code::Valid
        );
        let history = events(store.as_mut(), Some(&old.id), None);
        assert_eq!(history[0].action, "undo");
        assert!(
            history[0]
                .detail
                .as_deref()
                .is_some_and(|d| d.contains(&done.new.id)),
            "{history:?}"
        );
        assert_eq!(history[1].action, "rotate");
        let new_history = events(store.as_mut(), Some(&done.new.id), None);
        assert_eq!(
            new_history
                .iter()
                .map(|e| e.action.as_str())
                .collect::<Vec<_>>(),
            vec!["undo", "rotate"]
        );
        // The key can be rotated again.
        rotated(lifecycle::rotate(store.as_mut(), &old.id, Retire::Now, change(T0 + 4)).unwrap());
    }
}

conformance! {
    create_stores_the_spec_and_records_an_event,
    the_store_holds_the_hash_never_the_key,
    set_disabled_twice_records_one_event,
    edit_records_the_fields_it_changed,
    an_edit_that_changes_nothing_records_nothing,
    rotation_links_both_keys,
    rotation_at_a_time_keeps_the_earlier_expiry,
    a_replaced_or_missing_key_is_not_rotated,
    delete_keeps_the_history_and_removes_the_uses,
    take_back_undoes_a_create,
    take_back_undoes_a_rotation,
}

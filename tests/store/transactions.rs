//! Transactions: all or nothing, whether the work or the store fails; and
//! the refusals of a taken id, one key at a time and in batches.

use std::collections::HashMap;

use keysmith::Error;
use keysmith::key_format::{self, KeyHash};
use keysmith::lifecycle;
use keysmith::model::NewKey;
use keysmith::model::{Event, Retire};
use keysmith::store::{self, KeyInserter, KeyRecord, Store};

use crate::backend::*;

/// A key record and its `create` event, made by hand, for `id` (or a new one).
fn record(name: &str, id: Option<&str>, at: i64) -> (KeyRecord, Event) {
    let minted = match id {
        Some(id) => key_format::mint_with_id("ks", id.to_owned()),
        None => key_format::mint("ks"),
    };
    let record = lifecycle::record_for(&spec(name), &minted, at);
    let event = change(at).event("create", &record.id, None);
    (record, event)
}

fn boom() -> Error {
    Error::Usage("boom: the work failed".into())
}

fn is_boom(result: &keysmith::Result<impl std::fmt::Debug>) -> bool {
    matches!(result, Err(Error::Usage(m)) if m == "boom: the work failed")
}

/// The whole visible state: every key (with uses) and every event.
fn state(store: &mut dyn Store) -> (Vec<KeyRecord>, Vec<Event>) {
    (all_keys(store), events(store, None, None))
}

fn an_error_inside_a_transaction_rolls_everything_back(backend: &Backend) {
    let mut store = backend.open();
    let (a, _) = create(store.as_mut(), &spec("a"), T0);
    let (c, _) = create(store.as_mut(), &spec("c"), T0);
    store.record_uses(&[a.id.as_str(), &c.id], T0 + 1).unwrap();
    let before = state(store.as_mut());
    let (new, new_event) = record("new", None, T0 + 2);

    let result = store::transaction(store.as_mut(), |tx| {
        let mut locked = tx.lock_key(&a.id)?.expect("a");
        locked.disabled = true;
        locked.name = "renamed".into();
        locked.expires_at = Some(T0 + 5);
        tx.save_key(&locked)?;
        tx.append_event(&change(T0 + 2).event("disable", &a.id, None))?;
        assert!(tx.insert_key(&new)?);
        tx.append_event(&new_event)?;
        // What the transaction did is visible inside it.
        assert_eq!(tx.lock_key(&new.id)?.as_ref(), Some(&new));
        assert!(tx.lock_key(&a.id)?.expect("a").disabled);
        assert!(tx.delete_key(&c.id)?);
        assert_eq!(tx.lock_key(&c.id)?, None);
        Err::<(), _>(boom())
    });
    assert!(
        is_boom(&result),
        "the work's own error comes back: {result:?}"
    );
    assert_eq!(state(store.as_mut()), before, "nothing of it is visible");
    assert_eq!(store.key_by_id(&new.id).unwrap(), None);
    assert_eq!(
        key(store.as_mut(), &c.id).use_count,
        1,
        "c and its uses are back"
    );
    assert_eq!(
        verify_code(store.as_mut(), a.secret.expose(), T0 + 3),
        keysmith::Code::Valid
    );

    // Another store sees nothing of it either, and this one goes on working.
    let mut other = backend.open();
    assert_eq!(other.key_by_id(&new.id).unwrap(), None);
    let (later, _) = create(store.as_mut(), &spec("later"), T0 + 4);
    assert!(other.key_by_id(&later.id).unwrap().is_some());

    // The operations of keys:: roll back alike when their work fails.
    let (mut count, limit) = (0, 3);
    let failed = lifecycle::create_many(
        store.as_mut(),
        &mut || {
            count += 1;
            if count > limit {
                Err(boom())
            } else {
                Ok(Some(spec("batch")))
            }
        },
        change(T0 + 5),
        &mut |_, _| panic!("nothing was committed"),
    );
    assert!(is_boom(&failed), "{failed:?}");
    assert!(store.keys_by_name("batch").unwrap().is_empty());
}

/// Each step of `Transaction` does what it says, and no more.
fn each_transaction_step_does_what_it_says(backend: &Backend) {
    let mut store = backend.open();
    let (a, a_key) = create(store.as_mut(), &spec_for("a", "sms"), T0);
    let (b, _) = create(store.as_mut(), &spec("b"), T0);
    store
        .record_uses(&[a.id.as_str(), &a.id, &b.id], T0 + 1)
        .unwrap();
    let a_used = KeyRecord {
        last_used_at: Some(T0 + 1),
        use_count: 2,
        ..a_key.clone()
    };
    let stranger = change(T0 + 2).event("note", "nosuchkey000", Some("for no key".into()));

    store::transaction(store.as_mut(), |tx| {
        // lock_key: the whole key, its uses included; None for no key.
        assert_eq!(tx.lock_key(&a.id)?, Some(a_used.clone()));
        assert_eq!(tx.lock_key("nosuchkey000")?, None);
        // save_key writes name, description, service, disabled, expires_at
        // and replaced_by, and nothing else of the record it is given.
        let mut saved = KeyRecord {
            name: "renamed".into(),
            description: Some("described".into()),
            service: Some("email".into()),
            disabled: true,
            expires_at: Some(T0 + 9),
            replaced_by: Some(b.id.clone()),
            ..a_used.clone()
        };
        let wanted = saved.clone();
        saved.hash = KeyHash([7; 32]);
        saved.prefix = "other".into();
        saved.created_at = T0 - 100;
        saved.rotated_from = Some("nosuchkey000".into());
        saved.use_count = 99;
        saved.last_used_at = Some(T0 + 99);
        tx.save_key(&saved)?;
        assert_eq!(tx.lock_key(&a.id)?, Some(wanted));
        // delete_key: true once, with the uses; false after, and for no key.
        assert!(tx.delete_key(&b.id)?);
        assert!(!tx.delete_key(&b.id)?);
        assert!(!tx.delete_key("nosuchkey000")?);
        // append_event keeps an event as given, whatever its key.
        tx.append_event(&stranger)
    })
    .unwrap();

    let a_now = key(store.as_mut(), &a.id);
    assert_eq!(
        a_now,
        KeyRecord {
            name: "renamed".into(),
            description: Some("described".into()),
            service: Some("email".into()),
            disabled: true,
            expires_at: Some(T0 + 9),
            replaced_by: Some(b.id.clone()),
            ..a_used
        }
    );
    assert_eq!(
        verify_code(store.as_mut(), a.secret.expose(), T0 + 3),
        keysmith::Code::Disabled,
        "the hash is the one stored at first"
    );
    assert_eq!(store.key_by_id(&b.id).unwrap(), None);
    assert_eq!(
        backend.query_i64("SELECT count(*) FROM usage"),
        1,
        "b's uses went with it"
    );
    assert_eq!(
        events(store.as_mut(), None, Some(1)),
        vec![stranger.clone()]
    );
    assert_eq!(
        events(store.as_mut(), Some("nosuchkey000"), None),
        vec![stranger]
    );
}

/// A table that refuses every new event (a hostile state made in raw SQL).
fn refuse_events(backend: &Backend) {
    backend.raw_execute(
        "CREATE TRIGGER conformance_refuse BEFORE INSERT ON events \
         BEGIN SELECT RAISE(ABORT, 'refused by the conformance suite'); END;",
        "CREATE FUNCTION conformance_refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'refused by the conformance suite'; END $$; \
         CREATE TRIGGER conformance_refuse BEFORE INSERT ON events \
         FOR EACH ROW EXECUTE FUNCTION conformance_refuse();",
    );
}

fn accept_events(backend: &Backend) {
    backend.raw_execute(
        "DROP TRIGGER conformance_refuse;",
        "DROP TRIGGER conformance_refuse ON events; DROP FUNCTION conformance_refuse();",
    );
}

/// A transaction that added a key and then failed in the store leaves no
/// key: the step after `insert_key` (its event) is refused.
fn a_change_that_fails_after_adding_a_key_leaves_no_key(backend: &Backend) {
    let mut store = backend.open();
    let (a, _) = create(store.as_mut(), &spec("a"), T0);
    let before = state(store.as_mut());
    refuse_events(backend);

    let created = lifecycle::create(store.as_mut(), &spec("new"), change(T0 + 1));
    assert!(matches!(created, Err(Error::Store { .. })), "{created:?}");
    let rotation = lifecycle::rotate(store.as_mut(), &a.id, Retire::Now, change(T0 + 1));
    assert!(matches!(rotation, Err(Error::Store { .. })), "{rotation:?}");
    let deleted = lifecycle::delete(store.as_mut(), &a.id, change(T0 + 1));
    assert!(matches!(deleted, Err(Error::Store { .. })), "{deleted:?}");
    let mut shown = 0;
    let many = lifecycle::create_many(
        store.as_mut(),
        &mut {
            let mut left = 5;
            move || {
                left -= 1;
                Ok((left >= 0).then(|| spec("many")))
            }
        },
        change(T0 + 1),
        &mut |_, _| {
            shown += 1;
            Ok(())
        },
    );
    assert!(matches!(many, Err(Error::Store { .. })), "{many:?}");
    assert_eq!(shown, 0);
    for failure in [created.err(), rotation.err(), deleted.err(), many.err()] {
        let text = failure.unwrap().to_string();
        assert!(
            !text.contains("INSERT") && !text.contains("SELECT"),
            "SQL shown: {text}"
        );
    }
    assert_eq!(state(store.as_mut()), before, "no key, no change, no event");

    accept_events(backend);
    let (later, _) = create(store.as_mut(), &spec("later"), T0 + 2);
    assert_eq!(all_keys(store.as_mut()).len(), 2);
    assert_eq!(key(store.as_mut(), &later.id).name, "later");
}

fn insert_key_refuses_a_taken_id_and_writes_nothing(backend: &Backend) {
    let mut store = backend.open();
    let (a, a_key) = create(store.as_mut(), &spec("a"), T0);
    let (intruder, _) = record("intruder", Some(&a.id), T0 + 1);
    assert_ne!(intruder.hash, a_key.hash);
    let (new, new_event) = record("new", None, T0 + 1);
    let (again, _) = record("again", Some(&new.id), T0 + 1);

    let results = store::transaction(store.as_mut(), |tx| {
        let taken = tx.insert_key(&intruder)?;
        // The transaction goes on after a refusal.
        let added = tx.insert_key(&new)?;
        let taken_now = tx.insert_key(&again)?;
        tx.append_event(&new_event)?;
        Ok((taken, added, taken_now))
    })
    .unwrap();
    assert_eq!(results, (false, true, false));
    assert_eq!(
        key(store.as_mut(), &a.id),
        a_key,
        "the stored key is untouched"
    );
    assert_eq!(key(store.as_mut(), &new.id), new, "the first of an id wins");
    assert!(store.keys_by_name("intruder").unwrap().is_empty());
    assert!(store.keys_by_name("again").unwrap().is_empty());
    assert_eq!(
        verify_code(store.as_mut(), a.secret.expose(), T0 + 2),
        keysmith::Code::Valid
    );
    assert_eq!(
        actions(&events(store.as_mut(), None, None)),
        vec![
            ("create".into(), new.id.clone()),
            ("create".into(), a.id.clone())
        ]
    );
}

fn insert_batch_skips_taken_ids_and_reports_their_positions(backend: &Backend) {
    let mut store = backend.open();
    let (x, x_key) = create(store.as_mut(), &spec("x"), T0);
    let (y, y_key) = create(store.as_mut(), &spec("y"), T0);
    let (n1, e1) = record("n1", None, T0 + 1);
    let (n2, e2) = record("n2", None, T0 + 1);
    let (n3, e3) = record("n3", None, T0 + 1);
    let (x_dup, mut x_event) = record("x dup", Some(&x.id), T0 + 1);
    let (y_dup, y_event) = record("y dup", Some(&y.id), T0 + 1);
    let (n1_dup, n1_event) = record("n1 dup", Some(&n1.id), T0 + 1);
    x_event.actor = "intruder".into();

    let mut answers = Vec::new();
    let mut committed = Vec::new();
    let count = store
        .insert_batch(
            &mut |inserter: &mut dyn KeyInserter| {
                answers.push(inserter.insert(
                    &[n1.clone(), x_dup.clone(), n2.clone(), y_dup.clone()],
                    &[e1.clone(), x_event.clone(), e2.clone(), y_event.clone()],
                )?);
                // An id taken earlier in the same batch is taken too.
                answers.push(inserter.insert(
                    &[n1_dup.clone(), n3.clone()],
                    &[n1_event.clone(), e3.clone()],
                )?);
                answers.push(inserter.insert(&[], &[])?);
                Ok(())
            },
            &mut |key| {
                committed.push(key.clone());
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(answers, vec![vec![1, 3], vec![0], vec![]]);
    assert_eq!(count, 3);
    committed.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        committed,
        vec![n1.clone(), n2.clone(), n3.clone()],
        "exactly the written keys"
    );
    for written in &committed {
        assert_eq!(key(store.as_mut(), &written.id), *written);
    }
    assert_eq!(key(store.as_mut(), &x.id), x_key);
    assert_eq!(key(store.as_mut(), &y.id), y_key);
    assert_eq!(all_keys(store.as_mut()).len(), 5);
    // One event per written key, none for the refused ones.
    let history = events(store.as_mut(), None, None);
    assert_eq!(history.len(), 5, "{history:?}");
    assert!(history.iter().all(|e| e.actor == ACTOR), "{history:?}");
    for (id, event) in [(&n1.id, &e1), (&n2.id, &e2), (&n3.id, &e3)] {
        assert_eq!(events(store.as_mut(), Some(id), None), vec![event.clone()]);
    }
    assert_eq!(events(store.as_mut(), Some(&x.id), None).len(), 1);
    assert_eq!(events(store.as_mut(), Some(&y.id), None).len(), 1);
}

fn an_insert_batch_whose_fill_fails_writes_nothing(backend: &Backend) {
    let mut store = backend.open();
    let (a, _) = create(store.as_mut(), &spec("a"), T0);
    let before = state(store.as_mut());
    let (n1, e1) = record("n1", None, T0 + 1);
    let (n2, e2) = record("n2", None, T0 + 1);
    let (dup, dup_event) = record("dup", Some(&a.id), T0 + 1);
    let mut calls = 0;
    let result = store.insert_batch(
        &mut |inserter| {
            assert_eq!(
                inserter.insert(&[n1.clone(), dup.clone()], &[e1.clone(), dup_event.clone()])?,
                vec![1]
            );
            assert!(
                inserter
                    .insert(std::slice::from_ref(&n2), std::slice::from_ref(&e2))?
                    .is_empty()
            );
            Err(boom())
        },
        &mut |_| {
            calls += 1;
            Ok(())
        },
    );
    assert!(is_boom(&result), "{result:?}");
    assert_eq!(calls, 0, "committed never hears of a rolled-back key");
    assert_eq!(state(store.as_mut()), before);

    // An empty batch adds nothing and reports nothing.
    let empty = store
        .insert_batch(&mut |_| Ok(()), &mut |_| panic!("no keys"))
        .unwrap();
    assert_eq!(empty, 0);
    assert_eq!(state(store.as_mut()), before);
}

/// `committed` runs after the commit: its error is returned, and the keys
/// stay (the caller takes them back, as `create --from` does).
fn an_error_of_committed_comes_after_the_commit(backend: &Backend) {
    let mut store = backend.open();
    let (n1, e1) = record("n1", None, T0);
    let (n2, e2) = record("n2", None, T0);
    let mut other = backend.open();
    let mut calls = 0;
    let result = store.insert_batch(
        &mut |inserter| {
            assert!(
                inserter
                    .insert(&[n1.clone(), n2.clone()], &[e1.clone(), e2.clone()])?
                    .is_empty()
            );
            Ok(())
        },
        &mut |key| {
            calls += 1;
            // Committed already: another connection sees the key.
            assert!(other.key_by_id(&key.id)?.is_some());
            Err(boom())
        },
    );
    assert!(is_boom(&result), "{result:?}");
    assert_eq!(calls, 1, "the first error stops the reports");
    assert_eq!(all_keys(store.as_mut()).len(), 2);
}

fn create_many_creates_every_key_with_its_event(backend: &Backend) {
    let mut store = backend.open();
    // More than one batch of lifecycle::create_many (2,000).
    const N: usize = 2_100;
    let mut made = 0;
    // (NewKey is not Clone: one is made per key.)
    let spec = || NewKey {
        service: Some("sms".into()),
        prefix: "bulk".into(),
        expires_in: Some(60),
        ..spec("many")
    };
    let mut shown: HashMap<String, (KeyRecord, String)> = HashMap::new();
    let count = lifecycle::create_many(
        store.as_mut(),
        &mut || {
            made += 1;
            Ok((made <= N).then(spec))
        },
        change(T0),
        &mut |record, minted| {
            assert_eq!(record.id, minted.id);
            let full = minted.secret.expose().to_owned();
            assert_eq!(KeyHash::of(&full), record.hash);
            let fresh = shown.insert(record.id.clone(), (record.clone(), full));
            assert!(fresh.is_none(), "{} shown twice", record.id);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(count, N as u64);
    assert_eq!(shown.len(), N);
    let stored = all_keys(store.as_mut());
    assert_eq!(stored.len(), N);
    for key in &stored {
        let (record, _) = &shown[&key.id];
        assert_eq!(key, record);
        assert_eq!(
            (
                key.prefix.as_str(),
                key.service.as_deref(),
                key.expires_at,
                key.created_at
            ),
            ("bulk", Some("sms"), Some(T0 + 60), T0)
        );
    }
    let history = events(store.as_mut(), None, None);
    assert_eq!(history.len(), N);
    assert!(
        history
            .iter()
            .all(|e| e.action == "create" && e.at == T0 && e.actor == ACTOR)
    );
    let mut with_events: Vec<&str> = history
        .iter()
        .map(|e| e.key_id.as_deref().unwrap())
        .collect();
    with_events.sort_unstable();
    with_events.dedup();
    assert_eq!(with_events.len(), N, "one event per key");
    for (_, full) in shown.values().take(20) {
        assert_eq!(
            verify_code(store.as_mut(), full, T0 + 1),
            keysmith::Code::Valid
        );
    }

    // No specs: nothing, and no error.
    let none = lifecycle::create_many(store.as_mut(), &mut || Ok(None), change(T0), &mut |_, _| {
        panic!("no keys")
    })
    .unwrap();
    assert_eq!(none, 0);
}

fn create_many_is_all_or_nothing_when_next_fails_midway(backend: &Backend) {
    let mut store = backend.open();
    let (a, a_key) = create(store.as_mut(), &spec("a"), T0);
    let before = state(store.as_mut());
    // Early, and after a first batch of 2,000 went to the store.
    for fail_at in [3, 2_050] {
        let mut made = 0;
        let result = lifecycle::create_many(
            store.as_mut(),
            &mut || {
                made += 1;
                if made == fail_at {
                    Err(boom())
                } else {
                    Ok(Some(spec("many")))
                }
            },
            change(T0 + 1),
            &mut |_, _| panic!("nothing was committed"),
        );
        assert!(is_boom(&result), "{fail_at}: {result:?}");
        assert_eq!(made, fail_at, "next is not called after its error");
        assert_eq!(state(store.as_mut()), before, "{fail_at}: nothing kept");
    }
    assert_eq!(key(store.as_mut(), &a.id), a_key);
    // And the store takes a batch afterwards.
    let mut left = 2;
    let made = lifecycle::create_many(
        store.as_mut(),
        &mut || {
            left -= 1;
            Ok((left >= 0).then(|| spec("after")))
        },
        change(T0 + 2),
        &mut |_, _| Ok(()),
    )
    .unwrap();
    assert_eq!(made, 2);
    assert_eq!(all_keys(store.as_mut()).len(), 3);
}

conformance! {
    each_transaction_step_does_what_it_says,
    an_error_inside_a_transaction_rolls_everything_back,
    a_change_that_fails_after_adding_a_key_leaves_no_key,
    insert_key_refuses_a_taken_id_and_writes_nothing,
    insert_batch_skips_taken_ids_and_reports_their_positions,
    an_insert_batch_whose_fill_fails_writes_nothing,
    an_error_of_committed_comes_after_the_commit,
    create_many_creates_every_key_with_its_event,
    create_many_is_all_or_nothing_when_next_fails_midway,
}

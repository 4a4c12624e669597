//! Whole-store copies: export, import, `store::copy` between backends,
//! `backup`, and opening without creating.

use keysmith::Error;
use keysmith::error::StoreFault;
use keysmith::lifecycle;
use keysmith::model::NewKey;
use keysmith::model::{KeyEdit, Retire};
use keysmith::store::{self, Copied, Item, Location, OpenMode, Store};

use crate::backend::*;

/// A store with keys in every state and a history: used, disabled, rotated
/// at once and with a grace time, edited, deleted (with uses). Returns the
/// full keys still stored, with the code each gets at `T0 + 50`.
fn populate(store: &mut dyn Store) -> Vec<(String, keysmith::Code)> {
    use keysmith::Code;
    let full = NewKey {
        name: "Data Sync".into(),
        description: Some("nightly".into()),
        service: Some("sms".into()),
        prefix: "acme".into(),
        expires_in: Some(86_400),
        limits: Default::default(),
        owner: Some("acme".into()),
        meta: Some(r#"{"plan":"pro"}"#.into()),
    };
    let (k1, _) = create(store, &full, T0);
    let (k2, _) = create(store, &spec("off"), T0 + 1);
    let (k3, _) = create(store, &spec("rotated now"), T0 + 2);
    let (k5, _) = create(store, &spec("rotated later"), T0 + 3);
    let (k7, _) = create(store, &spec("deleted"), T0 + 4);
    let (k8, _) = create(store, &spec("edited"), T0 + 5);
    store
        .record_uses(&[k1.id.as_str(), &k1.id, &k7.id], T0 + 6)
        .unwrap();
    store.record_uses(&[k8.id.as_str()], T0 + 7).unwrap();
    lifecycle::set_disabled(store, &k2.id, true, change(T0 + 8)).unwrap();
    let rotate = |store: &mut dyn Store, id: &str, retire| match lifecycle::rotate(
        store,
        id,
        retire,
        change(T0 + 9),
    )
    .unwrap()
    {
        lifecycle::Rotation::Rotated(done) => done.minted,
        other => panic!("{other:?}"),
    };
    let k4 = rotate(store, &k3.id, Retire::Now);
    let k6 = rotate(store, &k5.id, Retire::At(T0 + 40));
    lifecycle::delete(store, &k7.id, change(T0 + 10)).unwrap();
    let edit = KeyEdit {
        name: Some("edited twice".into()),
        expires_at: Some(Some(T0 + 1_000)),
        ..KeyEdit::default()
    };
    lifecycle::edit(store, &k8.id, &edit, change(T0 + 11)).unwrap();
    [
        (k1, Code::Valid),
        (k2, Code::Disabled),
        (k3, Code::Disabled),
        (k4, Code::Valid),
        (k5, Code::Expired),
        (k6, Code::Valid),
        (k8, Code::Valid),
    ]
    .into_iter()
    .map(|(minted, code)| (minted.secret.expose().to_owned(), code))
    .collect()
}

/// Every read gives the same answers on both stores.
fn assert_same_answers(a: &mut dyn Store, b: &mut dyn Store) {
    assert_eq!(export(a), export(b));
    assert_eq!(all_keys(a), all_keys(b));
    assert_eq!(events(a, None, None), events(b, None, None));
    assert_eq!(a.prefixes().unwrap(), b.prefixes().unwrap());
    let mut ids: Vec<String> = events(a, None, None)
        .into_iter()
        .map(|e| e.key_id.unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    for id in &ids {
        assert_eq!(
            events(a, Some(id), None),
            events(b, Some(id), None),
            "events of {id}"
        );
        assert_eq!(
            a.key_by_id(id).unwrap(),
            b.key_by_id(id).unwrap(),
            "key {id}"
        );
    }
    for name in ["Data Sync", "off", "rotated now", "deleted", "edited twice"] {
        assert_eq!(
            a.keys_by_name(name).unwrap(),
            b.keys_by_name(name).unwrap(),
            "{name}"
        );
    }
}

fn assert_keys_verify(store: &mut dyn Store, keys: &[(String, keysmith::Code)]) {
    for (full, code) in keys {
        let verdict = keysmith::verify(store, full, None, T0 + 50).unwrap();
        assert_eq!(
            verdict.code,
            *code,
            "{}",
            keysmith::parse(full).unwrap().masked()
        );
    }
}

fn export_yields_every_owner_then_every_key_then_every_event_oldest_first(backend: &Backend) {
    let mut store = backend.open();
    assert!(export(store.as_mut()).is_empty());
    populate(store.as_mut());
    let items = export(store.as_mut());
    let mut keys: Vec<Owned> = all_keys(store.as_mut())
        .into_iter()
        .map(Owned::Key)
        .collect();
    keys.reverse();
    let mut history: Vec<Owned> = events(store.as_mut(), None, None)
        .into_iter()
        .map(Owned::Event)
        .collect();
    history.reverse();
    // The owners first (here the one the first key names), then the keys.
    let mut owners: Vec<Owned> = Vec::new();
    store
        .list_owners(&mut |owner| {
            owners.push(Owned::Owner(owner.clone()));
            Ok(())
        })
        .unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(items[..1], owners[..], "owners first");
    let items = &items[1..];
    assert_eq!(items.len(), keys.len() + history.len());
    assert_eq!(
        items[..keys.len()],
        keys[..],
        "keys first, oldest first, uses and links included"
    );
    assert_eq!(
        items[keys.len()..],
        history[..],
        "then events, oldest first, a deleted key's too"
    );
    assert!(
        history
            .iter()
            .any(|e| matches!(e, Owned::Event(e) if e.action == "delete"))
    );

    // The first error of `each` ends the export and is returned.
    let mut calls = 0;
    let stopped = store.export(&mut |_| {
        calls += 1;
        if calls == 3 {
            Err(Error::Usage("enough".into()))
        } else {
            Ok(())
        }
    });
    assert!(matches!(stopped, Err(Error::Usage(_))));
    assert_eq!(calls, 3);
    // And the store is usable afterwards.
    create(store.as_mut(), &spec("after"), T0 + 20);
}

fn import_into_an_empty_store_copies_everything(backend: &Backend) {
    let mut from = backend.open();
    let stored = populate(from.as_mut());
    let target = backend.another();
    let mut to = target.open();
    let copied = store::copy(from.as_mut(), to.as_mut()).unwrap();
    let (key_count, event_count) = (
        all_keys(from.as_mut()).len(),
        events(from.as_mut(), None, None).len(),
    );
    let mut owner_count = 0;
    from.list_owners(&mut |_| {
        owner_count += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(
        owner_count, 1,
        "the owner of the populated store's first key"
    );
    assert_eq!(
        copied,
        Copied {
            owners: owner_count,
            keys: key_count as u64,
            events: event_count as u64
        }
    );
    assert_same_answers(from.as_mut(), to.as_mut());
    // Another connection to the copy sees the same.
    assert_same_answers(from.as_mut(), target.open().as_mut());
    // The hashes came along: the keys verify in the copy as in the original.
    assert_keys_verify(to.as_mut(), &stored);

    // The copy is a store like any other: its ids are taken, its keys change.
    let first = all_keys(to.as_mut()).pop().unwrap();
    let taken = store::transaction(to.as_mut(), |tx| {
        let minted = keysmith::key_format::mint_with_id("ks", first.id.clone());
        tx.insert_key(&lifecycle::record_for(&spec("dup"), &minted, T0 + 30))
    })
    .unwrap();
    assert!(!taken, "an imported id is taken");
    lifecycle::set_disabled(to.as_mut(), &first.id, true, change(T0 + 30)).unwrap();
    let history = events(to.as_mut(), Some(&first.id), None);
    assert_eq!(history[0].action, "disable");
    assert_eq!(
        history.len(),
        events(from.as_mut(), Some(&first.id), None).len() + 1
    );
    create(to.as_mut(), &spec("new"), T0 + 31);
}

/// `copy` between backends: this one into SQLite and back into a new store
/// of this kind (on PostgreSQL: PostgreSQL to SQLite, SQLite to PostgreSQL).
fn copy_into_sqlite_and_back_keeps_everything(backend: &Backend) {
    let mut original = backend.open();
    let stored = populate(original.as_mut());
    let sqlite = Backend::sqlite();
    let mut middle = sqlite.open();
    store::copy(original.as_mut(), middle.as_mut()).unwrap();
    assert_same_answers(original.as_mut(), middle.as_mut());
    let last = backend.another();
    let mut back = last.open();
    let copied = store::copy(middle.as_mut(), back.as_mut()).unwrap();
    assert_eq!(copied.keys, all_keys(original.as_mut()).len() as u64);
    assert_same_answers(original.as_mut(), back.as_mut());
    assert_keys_verify(middle.as_mut(), &stored);
    assert_keys_verify(back.as_mut(), &stored);
}

fn import_refuses_a_store_that_holds_keys_or_history(backend: &Backend) {
    let mut from = backend.open();
    populate(from.as_mut());
    // One holds a key; the other only the history of a deleted one.
    let with_key = backend.another();
    let with_history = backend.another();
    let mut occupied = with_key.open();
    create(occupied.as_mut(), &spec("mine"), T0);
    let mut deleted = with_history.open();
    let (gone, _) = create(deleted.as_mut(), &spec("gone"), T0);
    lifecycle::delete(deleted.as_mut(), &gone.id, change(T0 + 1)).unwrap();
    for to in [&mut occupied, &mut deleted] {
        let before = export(to.as_mut());
        let refused = store::copy(from.as_mut(), to.as_mut());
        match refused {
            Err(Error::Usage(message)) => assert!(message.contains("already holds"), "{message}"),
            other => panic!("not refused: {other:?}"),
        }
        assert_eq!(export(to.as_mut()), before, "nothing was copied");
    }
}

fn an_import_that_fails_keeps_nothing(backend: &Backend) {
    let mut from = backend.open();
    populate(from.as_mut());
    let items = export(from.as_mut());
    let target = backend.another();
    let mut to = target.open();

    // The fill fails after adding keys and events.
    let failed = to.import(&mut |importer| {
        for item in &items {
            match item {
                Owned::Owner(owner) => importer.add(Item::Owner(owner))?,
                Owned::Key(key) => importer.add(Item::Key(key))?,
                Owned::Event(event) => importer.add(Item::Event(event))?,
            }
        }
        Err(Error::Usage("the source failed".into()))
    });
    assert!(
        matches!(&failed, Err(Error::Usage(m)) if m == "the source failed"),
        "{failed:?}"
    );
    assert!(export(to.as_mut()).is_empty());

    // A copy that holds one key twice is refused whole.
    let first = items
        .iter()
        .find_map(|item| match item {
            Owned::Key(key) => Some(key),
            _ => None,
        })
        .expect("a key");
    let twice = to.import(&mut |importer| {
        importer.add(Item::Key(first))?;
        importer.add(Item::Key(first))
    });
    assert!(twice.is_err(), "{twice:?}");
    assert!(export(to.as_mut()).is_empty());

    // Still empty: a copy goes in.
    store::copy(from.as_mut(), to.as_mut()).unwrap();
    assert_same_answers(from.as_mut(), to.as_mut());
}

fn backup_writes_a_sqlite_copy_of_everything(backend: &Backend) {
    let mut store = backend.open();
    let stored = populate(store.as_mut());
    let dest = backend.path("backup.db");
    store::backup::check_destination(backend.location(), &dest, false).unwrap();
    store::backup::write(store.as_mut(), &dest).unwrap();
    let mut copy = store::open(&Location::Sqlite(dest.clone()), OpenMode::NoCreate)
        .unwrap()
        .store;
    assert_same_answers(store.as_mut(), copy.as_mut());
    assert_keys_verify(copy.as_mut(), &stored);
    assert!(matches!(
        store::backup::check_destination(backend.location(), &dest, false),
        Err(Error::Usage(_))
    ));
}

fn opening_without_create_refuses_a_missing_store_and_makes_none(backend: &Backend) {
    // docs/src/store.md (issue 24): a missing store is no empty one.
    let refused = store::open(backend.location(), OpenMode::NoCreate).err();
    assert_eq!(
        refused.as_ref().and_then(|e| e.store_fault()),
        Some(StoreFault::Missing),
        "{refused:?}"
    );
    assert!(!backend.store_exists(), "nothing was made");
    // Create makes it, and both modes then open the same store.
    let (minted, _) = create(backend.open().as_mut(), &spec("a"), T0);
    assert!(backend.store_exists());
    let mut again = store::open(backend.location(), OpenMode::NoCreate)
        .unwrap()
        .store;
    assert_eq!(key(again.as_mut(), &minted.id).name, "a");
}

conformance! {
    export_yields_every_owner_then_every_key_then_every_event_oldest_first,
    import_into_an_empty_store_copies_everything,
    copy_into_sqlite_and_back_keeps_everything,
    import_refuses_a_store_that_holds_keys_or_history,
    an_import_that_fails_keeps_nothing,
    backup_writes_a_sqlite_copy_of_everything,
    opening_without_create_refuses_a_missing_store_and_makes_none,
}

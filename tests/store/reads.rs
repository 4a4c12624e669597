//! Every read of `Store`: key_by_id, credentials, keys_by_name, events,
//! prefixes and list_keys with each filter.

use keysmith::Error;
use keysmith::lifecycle;
use keysmith::model::NewKey;
use keysmith::model::{KeyEdit, Retire, Status};
use keysmith::store::{Credential, KeyFilter};

use crate::backend::*;

fn credential_of(key: &keysmith::store::KeyRecord) -> Credential {
    Credential {
        id: key.id.clone(),
        hash: key.hash,
        name: key.name.clone(),
        service: key.service.clone(),
        disabled: key.disabled,
        expires_at: key.expires_at,
        limits: key.limits.clone(),
        owner: key.owner.clone(),
        meta: key.meta.clone(),
        owner_state: None,
    }
}

/// Swaps the case of every letter: another id of the same letters.
fn swapped_case(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn key_by_id_returns_every_field_and_none_for_another_id(backend: &Backend) {
    let mut store = backend.open();
    let spec = NewKey {
        name: "Data Sync".into(),
        description: Some("nightly export".into()),
        service: Some("sms".into()),
        prefix: "acme".into(),
        expires_in: Some(3_600),
        limits: Default::default(),
        owner: None,
        meta: None,
    };
    let (minted, created) = create(store.as_mut(), &spec, T0);
    let stored = key(store.as_mut(), &minted.id);
    assert_eq!(stored, created);
    assert_eq!(stored.id, minted.id);
    assert_eq!(stored.prefix, "acme");
    assert_eq!(stored.name, "Data Sync");
    assert_eq!(stored.description.as_deref(), Some("nightly export"));
    assert_eq!(stored.service.as_deref(), Some("sms"));
    assert!(!stored.disabled);
    assert_eq!(stored.created_at, T0);
    assert_eq!(stored.expires_at, Some(T0 + 3_600));
    assert_eq!((stored.last_used_at, stored.use_count), (None, 0));
    assert_eq!((stored.rotated_from, stored.replaced_by), (None, None));
    assert!(stored.hash.matches(&minted.hash));

    // Ids are case-sensitive (base62), and nothing else matches.
    let other_case = swapped_case(&minted.id);
    for id in [other_case.as_str(), "", "nosuchkey000", &minted.id[..11]] {
        assert_eq!(store.key_by_id(id).unwrap(), None, "{id:?}");
    }
}

fn credentials_answer_every_position_in_order(backend: &Backend) {
    let mut store = backend.open();
    let (a, a_key) = create(store.as_mut(), &spec_for("a", "sms"), T0);
    let (b, _) = create(store.as_mut(), &spec("b"), T0 + 1);
    lifecycle::set_disabled(store.as_mut(), &b.id, true, change(T0 + 2)).unwrap();
    let b_key = key(store.as_mut(), &b.id);
    let lower = swapped_case(&a.id);
    let ids = [
        a.id.as_str(),
        "nosuchkey000",
        b.id.as_str(),
        a.id.as_str(),
        "",
        lower.as_str(),
        a.id.as_str(),
    ];
    let mut seen = Vec::new();
    store
        .credentials(&ids, &mut |i, found| {
            seen.push((i, found));
            Ok(())
        })
        .unwrap();
    let (ca, cb) = (Some(credential_of(&a_key)), Some(credential_of(&b_key)));
    assert_eq!(
        seen,
        vec![
            (0, ca.clone()),
            (1, None),
            (2, cb),
            (3, ca.clone()),
            (4, None),
            (5, None),
            (6, ca.clone()),
        ]
    );

    // One id, and none.
    let mut seen = Vec::new();
    store
        .credentials(&[a.id.as_str()], &mut |i, found| {
            seen.push((i, found));
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, vec![(0, ca)]);
    let mut calls = 0;
    store
        .credentials(&[], &mut |_, _| {
            calls += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(calls, 0);

    // The first error of `each` ends the read and is returned.
    let mut calls = 0;
    let stopped = store.credentials(&[a.id.as_str(), &b.id, &a.id], &mut |_, _| {
        calls += 1;
        if calls == 2 {
            Err(Error::Usage("stop here".into()))
        } else {
            Ok(())
        }
    });
    assert!(matches!(stopped, Err(Error::Usage(m)) if m == "stop here"));
    assert_eq!(calls, 2);
    // And the store is still usable.
    assert_eq!(key(store.as_mut(), &a.id).name, "a");
}

/// What another connection commits while `credentials` answers is not seen
/// by the rest of that answer.
fn credentials_come_from_one_consistent_view(backend: &Backend) {
    let mut store = backend.open();
    let mut other = backend.open();
    let (a, _) = create(store.as_mut(), &spec("a"), T0);
    let (b, b_key) = create(store.as_mut(), &spec("b"), T0 + 1);
    let (c, c_key) = create(store.as_mut(), &spec("c"), T0 + 2);
    let mut seen = Vec::new();
    store
        .credentials(&[a.id.as_str(), &b.id, &c.id], &mut |i, found| {
            if i == 0 {
                lifecycle::set_disabled(other.as_mut(), &b.id, true, change(T0 + 3))?;
                lifecycle::delete(other.as_mut(), &c.id, change(T0 + 3))?;
            }
            seen.push(found);
            Ok(())
        })
        .unwrap();
    assert_eq!(seen[1], Some(credential_of(&b_key)), "b as it was");
    assert_eq!(seen[2], Some(credential_of(&c_key)), "c as it was");
    // The changes are there for the next read.
    let mut now = Vec::new();
    store
        .credentials(&[b.id.as_str(), &c.id], &mut |_, found| {
            now.push(found.map(|f| f.disabled));
            Ok(())
        })
        .unwrap();
    assert_eq!(now, vec![Some(true), None]);
}

fn keys_by_name_lists_exact_matches_newest_first(backend: &Backend) {
    let mut store = backend.open();
    let mut made = Vec::new();
    for (i, name) in ["web", "Web", "web", "web ", "api", "web"]
        .iter()
        .enumerate()
    {
        made.push(create(store.as_mut(), &spec(name), T0 + i as i64).1);
    }
    lifecycle::delete(store.as_mut(), &made[2].id, change(T0 + 10)).unwrap();
    let found = store.keys_by_name("web").unwrap();
    assert_eq!(ids(&found), vec![made[5].id.clone(), made[0].id.clone()]);
    assert_eq!(found[0], key(store.as_mut(), &made[5].id), "whole records");
    assert_eq!(
        ids(&store.keys_by_name("Web").unwrap()),
        vec![made[1].id.clone()]
    );
    assert_eq!(
        ids(&store.keys_by_name("web ").unwrap()),
        vec![made[3].id.clone()]
    );
    assert!(store.keys_by_name("we").unwrap().is_empty());
    assert!(store.keys_by_name("").unwrap().is_empty());
    assert!(
        store.keys_by_name("w%").unwrap().is_empty(),
        "no pattern matching"
    );
}

fn events_stream_newest_first_all_or_one_key_s(backend: &Backend) {
    let mut store = backend.open();
    let (a, _) = create(store.as_mut(), &spec("a"), T0);
    let (b, _) = create(store.as_mut(), &spec("b"), T0 + 1);
    lifecycle::set_disabled(store.as_mut(), &a.id, true, change(T0 + 2)).unwrap();
    let rename = KeyEdit {
        name: Some("b2".into()),
        ..KeyEdit::default()
    };
    lifecycle::edit(store.as_mut(), &b.id, &rename, change(T0 + 3)).unwrap();
    lifecycle::set_disabled(store.as_mut(), &a.id, false, change(T0 + 4)).unwrap();

    let all = events(store.as_mut(), None, None);
    let expected = [
        ("enable", &a.id, T0 + 4, None),
        ("edit", &b.id, T0 + 3, Some("name")),
        ("disable", &a.id, T0 + 2, None),
        ("create", &b.id, T0 + 1, None),
        ("create", &a.id, T0, None),
    ];
    assert_eq!(all.len(), expected.len(), "{all:?}");
    for (event, (action, id, at, detail)) in all.iter().zip(expected) {
        assert_eq!(
            (
                event.action.as_str(),
                event.key_id.as_ref().unwrap(),
                event.at,
                event.detail.as_deref()
            ),
            (action, id, at, detail)
        );
        assert_eq!(event.actor, ACTOR);
    }

    let of_a = events(store.as_mut(), Some(&a.id), None);
    assert_eq!(of_a, vec![all[0].clone(), all[2].clone(), all[4].clone()]);
    assert_eq!(
        events(store.as_mut(), Some(&b.id), None),
        vec![all[1].clone(), all[3].clone()]
    );

    // Limits: the newest ones.
    assert_eq!(events(store.as_mut(), None, Some(2)), all[..2].to_vec());
    assert_eq!(
        events(store.as_mut(), Some(&a.id), Some(1)),
        vec![all[0].clone()]
    );
    assert_eq!(events(store.as_mut(), None, Some(100)), all);
    assert!(events(store.as_mut(), None, Some(0)).is_empty());
    assert!(events(store.as_mut(), Some(&a.id), Some(0)).is_empty());

    // No such key, another case of its id: no events.
    assert!(events(store.as_mut(), Some("nosuchkey000"), None).is_empty());
    assert!(events(store.as_mut(), Some(&swapped_case(&a.id)), None).is_empty());

    // The first error of `each` ends the stream and is returned.
    let mut calls = 0;
    let stopped = store.events(&Default::default(), &mut |_| {
        calls += 1;
        Err(Error::Usage("enough".into()))
    });
    assert!(matches!(stopped, Err(Error::Usage(_))));
    assert_eq!(calls, 1);
}

fn a_deleted_key_s_history_stays(backend: &Backend) {
    let mut store = backend.open();
    let (a, _) = create(store.as_mut(), &spec("a"), T0);
    let (b, _) = create(store.as_mut(), &spec("b"), T0 + 1);
    lifecycle::set_disabled(store.as_mut(), &a.id, true, change(T0 + 2)).unwrap();
    lifecycle::delete(store.as_mut(), &a.id, change(T0 + 3)).unwrap();
    // A key made after the deletion does not take over its history.
    let (c, _) = create(store.as_mut(), &spec("c"), T0 + 4);

    let of_a = events(store.as_mut(), Some(&a.id), None);
    assert_eq!(
        actions(&of_a),
        vec![
            ("delete".into(), a.id.clone()),
            ("disable".into(), a.id.clone()),
            ("create".into(), a.id.clone()),
        ]
    );
    assert_eq!(of_a[0].at, T0 + 3);
    assert_eq!(events(store.as_mut(), Some(&a.id), Some(1)).len(), 1);
    assert_eq!(events(store.as_mut(), None, None).len(), 5);
    assert_eq!(
        actions(&events(store.as_mut(), Some(&c.id), None)),
        vec![("create".into(), c.id.clone())]
    );
    assert_eq!(events(store.as_mut(), Some(&b.id), None).len(), 1);
}

fn prefixes_are_distinct_and_sorted(backend: &Backend) {
    let mut store = backend.open();
    assert!(store.prefixes().unwrap().is_empty());
    let with_prefix = |prefix: &str| NewKey {
        prefix: prefix.into(),
        ..spec("p")
    };
    for prefix in ["zz", "ks", "acme", "ks", "a1"] {
        create(store.as_mut(), &with_prefix(prefix), T0);
    }
    let only_zz = store.keys_by_name("p").unwrap()[4].clone();
    assert_eq!(only_zz.prefix, "zz");
    assert_eq!(store.prefixes().unwrap(), vec!["a1", "acme", "ks", "zz"]);
    lifecycle::delete(store.as_mut(), &only_zz.id, change(T0 + 1)).unwrap();
    assert_eq!(store.prefixes().unwrap(), vec!["a1", "acme", "ks"]);
}

fn services_are_distinct_and_sorted(backend: &Backend) {
    let mut store = backend.open();
    assert!(store.services().unwrap().is_empty());
    create(store.as_mut(), &spec("no service"), T0);
    assert!(store.services().unwrap().is_empty());
    for service in ["sms", "sms-eu", "billing", "sms", "smseu"] {
        create(store.as_mut(), &spec_for("s", service), T0);
    }
    assert_eq!(
        store.services().unwrap(),
        vec!["billing", "sms", "sms-eu", "smseu"]
    );
    let billing = store
        .keys_by_name("s")
        .unwrap()
        .into_iter()
        .find(|k| k.service.as_deref() == Some("billing"))
        .unwrap();
    lifecycle::delete(store.as_mut(), &billing.id, change(T0 + 1)).unwrap();
    assert_eq!(store.services().unwrap(), vec!["sms", "sms-eu", "smseu"]);
}

/// A store of keys in every state for the `list_keys` checks, newest last:
/// 0 sms, used at T0+50; 1 sms, disabled; 2 none, expires T0+100;
/// 3 email, expires T0+200, used at T0+300; 4 sms, expires T0+300;
/// 5 none, never used; 6 sms, rotated (Retire::At T0+150) into 7.
fn keys_in_every_state(store: &mut dyn keysmith::Store) -> Vec<String> {
    let plain = |service: Option<&str>, expires_in: Option<i64>| NewKey {
        service: service.map(str::to_owned),
        expires_in,
        ..spec("k")
    };
    let specs = [
        plain(Some("sms"), None),
        plain(Some("sms"), None),
        plain(None, Some(100)),
        plain(Some("email"), Some(200)),
        plain(Some("sms"), Some(300)),
        plain(None, None),
        plain(Some("sms"), None),
    ];
    let mut ids: Vec<String> = specs
        .iter()
        .map(|spec| create(store, spec, T0).1.id)
        .collect();
    lifecycle::set_disabled(store, &ids[1], true, change(T0 + 1)).unwrap();
    store.record_uses(&[ids[0].as_str()], T0 + 50).unwrap();
    store.record_uses(&[ids[3].as_str()], T0 + 300).unwrap();
    match lifecycle::rotate(store, &ids[6], Retire::At(T0 + 150), change(T0 + 2)).unwrap() {
        lifecycle::Rotation::Rotated(done) => ids.push(done.new.id.clone()),
        other => panic!("{other:?}"),
    }
    ids
}

fn filter(now: i64) -> KeyFilter {
    KeyFilter {
        now,
        ..KeyFilter::default()
    }
}

/// `ids` picked by position, newest first.
fn picked(ids: &[String], positions: &[usize]) -> Vec<String> {
    positions.iter().rev().map(|&i| ids[i].clone()).collect()
}

fn list_keys_yields_every_key_newest_first_with_its_uses(backend: &Backend) {
    let mut store = backend.open();
    assert!(list(store.as_mut(), &filter(T0)).is_empty());
    let made = keys_in_every_state(store.as_mut());
    let listed = list(store.as_mut(), &filter(T0));
    assert_eq!(ids(&listed), picked(&made, &[0, 1, 2, 3, 4, 5, 6, 7]));
    for listed_key in &listed {
        assert_eq!(
            *listed_key,
            key(store.as_mut(), &listed_key.id),
            "whole records"
        );
    }
    assert_eq!(listed[7].last_used_at, Some(T0 + 50));
    assert_eq!(listed[7].use_count, 1);
    assert_eq!(listed[4].use_count, 1);
    assert_eq!(listed[0].rotated_from.as_deref(), Some(made[6].as_str()));

    // A deleted key is gone from the listing, and so are its uses.
    lifecycle::delete(store.as_mut(), &made[0], change(T0 + 3)).unwrap();
    let listed = list(store.as_mut(), &filter(T0));
    assert_eq!(ids(&listed), picked(&made, &[1, 2, 3, 4, 5, 6, 7]));
    for listed_key in &listed {
        let uses = if listed_key.id == made[3] { 1 } else { 0 };
        assert_eq!(
            listed_key.use_count, uses,
            "key 3 keeps its own use, no other has one"
        );
    }

    // The first error of `each` ends the stream and is returned.
    let mut calls = 0;
    let stopped = store.list_keys(&filter(T0), &mut |_| {
        calls += 1;
        if calls == 2 {
            Err(Error::Usage("enough".into()))
        } else {
            Ok(())
        }
    });
    assert!(matches!(stopped, Err(Error::Usage(_))));
    assert_eq!(calls, 2);
}

fn list_keys_by_service(backend: &Backend) {
    let mut store = backend.open();
    let made = keys_in_every_state(store.as_mut());
    let by = |service: &str| KeyFilter {
        service: Some(service.into()),
        ..filter(T0)
    };
    let sms = list(store.as_mut(), &by("sms"));
    assert_eq!(ids(&sms), picked(&made, &[0, 1, 4, 6, 7]));
    assert_eq!(sms[4].use_count, 1, "uses on a filtered listing too");
    assert_eq!(sms[4].last_used_at, Some(T0 + 50));
    assert_eq!(
        ids(&list(store.as_mut(), &by("email"))),
        picked(&made, &[3])
    );
    assert!(list(store.as_mut(), &by("sm")).is_empty());
    assert!(list(store.as_mut(), &by("SMS")).is_empty());
}

fn list_keys_by_status_at_now(backend: &Backend) {
    let mut store = backend.open();
    let made = keys_in_every_state(store.as_mut());
    let at = |status: Status, now: i64| KeyFilter {
        status: Some(status),
        ..filter(now)
    };
    let listed = |store: &mut dyn keysmith::Store, status, now| ids(&list(store, &at(status, now)));
    // At T0 only the disabled key is not enabled.
    assert_eq!(
        listed(store.as_mut(), Status::Enabled, T0),
        picked(&made, &[0, 2, 3, 4, 5, 6, 7])
    );
    assert_eq!(
        listed(store.as_mut(), Status::Disabled, T0),
        picked(&made, &[1])
    );
    assert!(listed(store.as_mut(), Status::Expired, T0).is_empty());
    // Expired from the instant expires_at is reached.
    assert_eq!(
        listed(store.as_mut(), Status::Expired, T0 + 99),
        Vec::<String>::new()
    );
    assert_eq!(
        listed(store.as_mut(), Status::Expired, T0 + 100),
        picked(&made, &[2])
    );
    assert_eq!(
        listed(store.as_mut(), Status::Expired, T0 + 150),
        picked(&made, &[2, 6])
    );
    assert_eq!(
        listed(store.as_mut(), Status::Expired, T0 + 1_000),
        picked(&made, &[2, 3, 4, 6])
    );
    assert_eq!(
        listed(store.as_mut(), Status::Enabled, T0 + 1_000),
        picked(&made, &[0, 5, 7])
    );
    // A disabled key is disabled, not expired, however late.
    assert_eq!(
        listed(store.as_mut(), Status::Disabled, T0 + 1_000),
        picked(&made, &[1])
    );
    // With a service too.
    let sms_expired = KeyFilter {
        service: Some("sms".into()),
        ..at(Status::Expired, T0 + 1_000)
    };
    assert_eq!(
        ids(&list(store.as_mut(), &sms_expired)),
        picked(&made, &[4, 6])
    );
}

fn list_keys_with_a_limit(backend: &Backend) {
    let mut store = backend.open();
    let made = keys_in_every_state(store.as_mut());
    let limited = |n: u64| KeyFilter {
        limit: Some(n),
        ..filter(T0)
    };
    assert_eq!(
        ids(&list(store.as_mut(), &limited(3))),
        picked(&made, &[5, 6, 7])
    );
    assert_eq!(ids(&list(store.as_mut(), &limited(1))), picked(&made, &[7]));
    assert!(list(store.as_mut(), &limited(0)).is_empty());
    assert_eq!(list(store.as_mut(), &limited(100)).len(), 8);
    assert_eq!(list(store.as_mut(), &limited(u64::MAX)).len(), 8);
    // The limit applies after the filter.
    let sms_two = KeyFilter {
        service: Some("sms".into()),
        ..limited(2)
    };
    assert_eq!(ids(&list(store.as_mut(), &sms_two)), picked(&made, &[6, 7]));
    // The newest keys keep their uses under a limit (key 0 is the oldest).
    let eight = list(store.as_mut(), &limited(8));
    assert_eq!(
        (eight[7].id.as_str(), eight[7].use_count),
        (made[0].as_str(), 1)
    );
}

fn list_keys_expiring_by(backend: &Backend) {
    let mut store = backend.open();
    let made = keys_in_every_state(store.as_mut());
    let expiring = |now: i64, by: i64| KeyFilter {
        expiring_by: Some(by),
        ..filter(now)
    };
    let listed = |store: &mut dyn keysmith::Store, now, by| ids(&list(store, &expiring(now, by)));
    // Expires after now and at or before `by`.
    assert_eq!(listed(store.as_mut(), T0, T0 + 99), Vec::<String>::new());
    assert_eq!(listed(store.as_mut(), T0, T0 + 100), picked(&made, &[2]));
    assert_eq!(listed(store.as_mut(), T0, T0 + 150), picked(&made, &[2, 6]));
    assert_eq!(
        listed(store.as_mut(), T0, T0 + 300),
        picked(&made, &[2, 3, 4, 6])
    );
    // Already expired at now: not "expiring".
    assert_eq!(
        listed(store.as_mut(), T0 + 100, T0 + 300),
        picked(&made, &[3, 4, 6])
    );
    assert_eq!(
        listed(store.as_mut(), T0 + 299, T0 + 10_000),
        picked(&made, &[4])
    );
    assert!(listed(store.as_mut(), T0 + 300, T0 + 10_000).is_empty());
    // A disabled key with no expiry never appears; keys without expiry neither.
    let with_service = KeyFilter {
        service: Some("sms".into()),
        ..expiring(T0, T0 + 1_000)
    };
    assert_eq!(
        ids(&list(store.as_mut(), &with_service)),
        picked(&made, &[4, 6])
    );
}

fn list_keys_unused_since(backend: &Backend) {
    let mut store = backend.open();
    let made = keys_in_every_state(store.as_mut());
    let unused = |since: i64| KeyFilter {
        unused_since: Some(since),
        ..filter(T0)
    };
    let listed = |store: &mut dyn keysmith::Store, since| ids(&list(store, &unused(since)));
    // Never used: counts from creation (T0 for all, T0+2 for the replacement).
    assert!(listed(store.as_mut(), T0 - 1).is_empty());
    assert_eq!(listed(store.as_mut(), T0), picked(&made, &[1, 2, 4, 5, 6]));
    assert_eq!(
        listed(store.as_mut(), T0 + 2),
        picked(&made, &[1, 2, 4, 5, 6, 7])
    );
    // Key 0 was used at T0+50, key 3 at T0+300: at or before.
    assert_eq!(
        listed(store.as_mut(), T0 + 49),
        picked(&made, &[1, 2, 4, 5, 6, 7])
    );
    assert_eq!(
        listed(store.as_mut(), T0 + 50),
        picked(&made, &[0, 1, 2, 4, 5, 6, 7])
    );
    assert_eq!(
        listed(store.as_mut(), T0 + 300),
        picked(&made, &[0, 1, 2, 3, 4, 5, 6, 7])
    );
    // A new use takes a key out.
    store.record_uses(&[made[5].as_str()], T0 + 400).unwrap();
    assert_eq!(
        listed(store.as_mut(), T0 + 300),
        picked(&made, &[0, 1, 2, 3, 4, 6, 7])
    );
    let combined = KeyFilter {
        service: Some("sms".into()),
        status: Some(Status::Enabled),
        limit: Some(2),
        ..unused(T0 + 100)
    };
    assert_eq!(
        ids(&list(store.as_mut(), &combined)),
        picked(&made, &[6, 7])
    );
}

fn list_keys_in_each_order(backend: &Backend) {
    let mut store = backend.open();
    let named = |name: &str, expires_in: Option<i64>| NewKey {
        expires_in,
        ..spec(name)
    };
    let specs = [
        named("beta", Some(300)),
        named("Alpha", None),
        named("gamma", Some(100)),
        named("alpha", Some(200)),
    ];
    let made: Vec<String> = specs
        .iter()
        .map(|spec| create(store.as_mut(), spec, T0).1.id)
        .collect();
    store.record_uses(&[made[0].as_str()], T0 + 10).unwrap();
    store.record_uses(&[made[2].as_str()], T0 + 20).unwrap();
    let at = |positions: &[usize]| -> Vec<String> {
        positions.iter().map(|&i| made[i].clone()).collect()
    };
    let in_order = |store: &mut dyn keysmith::Store, order, more: KeyFilter| {
        ids(&list(store, &KeyFilter { order, ..more }))
    };
    use keysmith::store::KeyOrder;
    assert_eq!(
        in_order(store.as_mut(), KeyOrder::Newest, filter(T0)),
        at(&[3, 2, 1, 0])
    );
    // Either case together; a tie goes newest first.
    assert_eq!(
        in_order(store.as_mut(), KeyOrder::Name, filter(T0)),
        at(&[3, 1, 0, 2])
    );
    // Never used last, newest first among them.
    assert_eq!(
        in_order(store.as_mut(), KeyOrder::LastUsed, filter(T0)),
        at(&[2, 0, 3, 1])
    );
    // No expiry last.
    assert_eq!(
        in_order(store.as_mut(), KeyOrder::SoonestExpiry, filter(T0)),
        at(&[2, 3, 0, 1])
    );
    // The limit counts in that order; filters still apply.
    let two = KeyFilter {
        limit: Some(2),
        ..filter(T0)
    };
    assert_eq!(in_order(store.as_mut(), KeyOrder::Name, two), at(&[3, 1]));
    let expiring = KeyFilter {
        expiring_by: Some(T0 + 250),
        ..filter(T0)
    };
    assert_eq!(
        in_order(store.as_mut(), KeyOrder::SoonestExpiry, expiring),
        at(&[2, 3])
    );
}

conformance! {
    list_keys_in_each_order,
    key_by_id_returns_every_field_and_none_for_another_id,
    credentials_answer_every_position_in_order,
    credentials_come_from_one_consistent_view,
    keys_by_name_lists_exact_matches_newest_first,
    events_stream_newest_first_all_or_one_key_s,
    a_deleted_key_s_history_stays,
    prefixes_are_distinct_and_sorted,
    services_are_distinct_and_sorted,
    list_keys_yields_every_key_newest_first_with_its_uses,
    list_keys_by_service,
    list_keys_by_status_at_now,
    list_keys_with_a_limit,
    list_keys_expiring_by,
    list_keys_unused_since,
}

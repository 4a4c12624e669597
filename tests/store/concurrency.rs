//! Many threads, each with its own store on the same location (docs/src/library.md: an
//! application verifies and creates keys from many threads at once). Every
//! store is opened here and moved into its thread.

use std::collections::HashSet;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;

use keysmith::Code;
use keysmith::lifecycle::{self, Rotation};
use keysmith::model::{KeyEdit, Retire};
use keysmith::store::Store;

use crate::backend::*;

/// `Box<dyn Store>` crosses threads: checked when this compiles.
fn assert_send<T: Send + 'static>(_: &T) {}

/// One store per thread, opened here; `work` runs on each at once (after a
/// barrier) and the answers come back in thread order.
fn on_threads<T: Send + 'static>(
    backend: &Backend,
    threads: usize,
    work: impl Fn(usize, &mut dyn Store) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let work = Arc::new(work);
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|n| {
            let mut store = backend.open();
            assert_send(&store);
            let (work, start) = (Arc::clone(&work), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                work(n, store.as_mut())
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a thread panicked"))
        .collect()
}

fn a_store_moves_into_another_thread(backend: &Backend) {
    let mut store = backend.open();
    assert_send(&store);
    let (minted, _) = create(store.as_mut(), &spec("made here"), T0);
    let id = minted.id.clone();
    let full = minted.secret.expose().to_owned();
    let mut store = thread::spawn(move || {
        assert_eq!(verify_code(store.as_mut(), &full, T0 + 1), Code::Valid);
        create(store.as_mut(), &spec("made there"), T0 + 2);
        store
    })
    .join()
    .unwrap();
    assert_eq!(key(store.as_mut(), &id).use_count, 1);
    assert_eq!(store.keys_by_name("made there").unwrap().len(), 1);
}

fn concurrent_creates_are_all_kept(backend: &Backend) {
    const THREADS: usize = 4;
    const EACH: usize = 8;
    const BULK: usize = 10;
    let made = on_threads(backend, THREADS, |n, store| {
        let mut keys = Vec::new();
        for i in 0..EACH {
            let (minted, record) =
                create(store, &spec_for(&format!("t{n}-{i}"), "sms"), T0 + i as i64);
            assert_eq!(record.id, minted.id);
            keys.push((minted.id.clone(), minted.secret.expose().to_owned()));
        }
        let mut left = BULK;
        lifecycle::create_many(
            store,
            &mut || {
                Ok(left.checked_sub(1).map(|l| {
                    left = l;
                    spec(&format!("bulk{n}"))
                }))
            },
            change(T0),
            &mut |record, minted| {
                keys.push((record.id.clone(), minted.secret.expose().to_owned()));
                Ok(())
            },
        )
        .unwrap();
        keys
    });
    let made: Vec<(String, String)> = made.into_iter().flatten().collect();
    let total = THREADS * (EACH + BULK);
    assert_eq!(made.len(), total);
    let distinct: HashSet<&str> = made.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(distinct.len(), total, "ids are distinct");

    let mut store = backend.open();
    let stored = all_keys(store.as_mut());
    assert_eq!(stored.len(), total, "every key is there");
    assert_eq!(
        stored.iter().map(|k| k.id.as_str()).collect::<HashSet<_>>(),
        distinct
    );
    for (id, full) in &made {
        assert_eq!(
            verify_code(store.as_mut(), full, T0 + 100),
            Code::Valid,
            "{id}"
        );
    }
    let history = events(store.as_mut(), None, None);
    assert_eq!(history.len(), total, "one create event each");
    assert_eq!(
        history
            .iter()
            .map(|e| e.key_id.as_deref().unwrap())
            .collect::<HashSet<_>>(),
        distinct
    );
}

fn concurrent_rotations_of_one_key_make_one_replacement(backend: &Backend) {
    const THREADS: usize = 4;
    let mut store = backend.open();
    for (round, retire) in [Retire::Now, Retire::At(T0 + 100), Retire::Now]
        .into_iter()
        .enumerate()
    {
        let (old, _) = create(store.as_mut(), &spec(&format!("round {round}")), T0);
        let old_id = old.id.clone();
        let answers = on_threads(backend, THREADS, move |_, store| {
            match lifecycle::rotate(store, &old_id, retire, change(T0 + 1)).unwrap() {
                Rotation::Rotated(done) => Ok(done.new.id.clone()),
                Rotation::AlreadyReplaced(by) => Err(by),
                Rotation::NoSuchKey => panic!("the key went missing"),
            }
        });
        let winners: Vec<&String> = answers.iter().filter_map(|a| a.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "exactly one replacement: {answers:?}");
        let winner = winners[0];
        for answer in &answers {
            if let Err(by) = answer {
                assert_eq!(by, winner, "the others name the replacement");
            }
        }
        let keys = store.keys_by_name(&format!("round {round}")).unwrap();
        assert_eq!(keys.len(), 2, "the key and one replacement");
        assert_eq!(&keys[0].id, winner);
        assert_eq!(keys[0].rotated_from.as_deref(), Some(old.id.as_str()));
        assert_eq!(keys[1].replaced_by.as_ref(), Some(winner));
        let rotations = events(store.as_mut(), None, None)
            .into_iter()
            .filter(|e| {
                e.action == "rotate"
                    && (e.key_id.as_ref() == Some(&old.id) || e.key_id.as_ref() == Some(winner))
            })
            .count();
        assert_eq!(rotations, 2, "one rotate event on each key");
        assert_eq!(
            verify_code(store.as_mut(), old.secret.expose(), T0 + 2),
            if retire == Retire::Now {
                Code::Disabled
            } else {
                Code::Valid
            }
        );
    }
}

fn concurrent_uses_are_all_counted(backend: &Backend) {
    const THREADS: usize = 4;
    const VERIFIES: usize = 15;
    const PAIRS: usize = 10;
    const MIXED: usize = 5;
    let mut store = backend.open();
    let (a, _) = create(store.as_mut(), &spec("a"), T0);
    let (b, _) = create(store.as_mut(), &spec("b"), T0);
    let (full, a_id, b_id) = (a.secret.expose().to_owned(), a.id.clone(), b.id.clone());
    on_threads(backend, THREADS, move |_, store| {
        for i in 0..VERIFIES.max(PAIRS).max(MIXED) {
            if i < VERIFIES {
                assert_eq!(verify_code(store, &full, T0 + 1), Code::Valid);
            }
            if i < PAIRS {
                store.record_uses(&[a_id.as_str(), &a_id], T0 + 1).unwrap();
            }
            if i < MIXED {
                store.record_uses(&[a_id.as_str(), &b_id], T0 + 1).unwrap();
            }
        }
    });
    let a_uses = (THREADS * (VERIFIES + 2 * PAIRS + MIXED)) as i64;
    let b_uses = (THREADS * MIXED) as i64;
    let a_key = key(store.as_mut(), &a.id);
    assert_eq!(
        (a_key.last_used_at, a_key.use_count),
        (Some(T0 + 1), a_uses)
    );
    assert_eq!(key(store.as_mut(), &b.id).use_count, b_uses);
    assert_eq!(
        events(store.as_mut(), None, None).len(),
        2,
        "uses record no event"
    );
}

/// Threads verifying different keys of one owner with 25 uses: exactly 25
/// are VALID in all, whatever the interleaving, and the owner has none left.
fn concurrent_keys_of_one_owner_share_its_uses_exactly(backend: &Backend) {
    const THREADS: usize = 4;
    const TRIES: usize = 12;
    let mut store = backend.open();
    let mut keys = Vec::new();
    for n in 0..THREADS {
        let spec = keysmith::model::NewKey {
            owner: Some("acme".into()),
            ..spec(&format!("k{n}"))
        };
        keys.push(
            create(store.as_mut(), &spec, T0)
                .0
                .secret
                .expose()
                .to_owned(),
        );
    }
    let edit = keysmith::model::OwnerEdit {
        remaining_uses: Some(Some(25)),
        ..Default::default()
    };
    lifecycle::set_owner(store.as_mut(), "acme", &edit, change(T0)).unwrap();
    let keys = Arc::new(keys);
    let valid: usize = on_threads(backend, THREADS, move |n, store| {
        (0..TRIES)
            .filter(|_| verify_code(store, &keys[n], T0 + 1) == Code::Valid)
            .count()
    })
    .into_iter()
    .sum();
    assert_eq!(valid, 25);
    let owner = store.owner("acme").unwrap().unwrap();
    assert_eq!(owner.limits.remaining_uses, Some(0));
}

/// What one thread commits, the very next verify of another thread honours.
fn a_change_is_seen_by_the_next_verify_of_another_thread(backend: &Backend) {
    let mut store = backend.open();
    let (minted, _) = create(store.as_mut(), &spec_for("k", "sms"), T0);
    let (id, full) = (minted.id.clone(), minted.secret.expose().to_owned());
    let (changed, on_change) = mpsc::channel::<Code>();
    let (checked, on_checked) = mpsc::channel::<Code>();
    let mut verifier_store = backend.open();
    let verifier = thread::spawn(move || {
        // Each message: a change was committed, and the code it must give.
        for expected in on_change {
            let verdict =
                keysmith::verify(verifier_store.as_mut(), &full, Some("sms"), T0 + 10).unwrap();
            assert_eq!(verdict.code, expected);
            checked.send(verdict.code).unwrap();
        }
    });
    let mut changer = backend.open();
    let step = |code: Code| {
        changed.send(code).unwrap();
        assert_eq!(on_checked.recv().expect("the verifier stopped"), code);
    };
    step(Code::Valid);
    for round in 0..5 {
        lifecycle::set_disabled(changer.as_mut(), &id, true, change(T0 + round)).unwrap();
        step(Code::Disabled);
        lifecycle::set_disabled(changer.as_mut(), &id, false, change(T0 + round)).unwrap();
        step(Code::Valid);
    }
    let moved = KeyEdit {
        service: Some(Some("email".into())),
        ..KeyEdit::default()
    };
    lifecycle::edit(changer.as_mut(), &id, &moved, change(T0 + 6)).unwrap();
    step(Code::WrongService);
    let back = KeyEdit {
        service: Some(Some("sms".into())),
        expires_at: Some(Some(T0 + 10)),
        ..KeyEdit::default()
    };
    lifecycle::edit(changer.as_mut(), &id, &back, change(T0 + 7)).unwrap();
    step(Code::Expired);
    let extended = KeyEdit {
        expires_at: Some(None),
        ..KeyEdit::default()
    };
    lifecycle::edit(changer.as_mut(), &id, &extended, change(T0 + 8)).unwrap();
    step(Code::Valid);
    lifecycle::rotate(changer.as_mut(), &id, Retire::Now, change(T0 + 9)).unwrap();
    step(Code::Disabled);
    lifecycle::delete(changer.as_mut(), &id, change(T0 + 9)).unwrap();
    step(Code::NotFound);
    drop(changed);
    verifier.join().expect("the verifier panicked");
}

conformance! {
    concurrent_keys_of_one_owner_share_its_uses_exactly,
    a_store_moves_into_another_thread,
    concurrent_creates_are_all_kept,
    concurrent_rotations_of_one_key_make_one_replacement,
    concurrent_uses_are_all_counted,
    a_change_is_seen_by_the_next_verify_of_another_thread,
}

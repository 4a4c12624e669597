//! `Store::change_counter`: what `serve`'s cache compares. Every committed
//! change of keys moves it, seen from another connection; uses, reads and
//! changes that were rolled back leave it as it is.

use keysmith::Error;
use keysmith::lifecycle;
use keysmith::model::Retire;
use keysmith::store::{self, Store};

use crate::backend::*;

fn counter(store: &mut dyn Store) -> u64 {
    store
        .change_counter()
        .expect("read the change counter")
        .expect("every backend has a change counter")
}

fn every_change_of_keys_moves_the_counter_and_uses_do_not(backend: &Backend) {
    let mut writer = backend.open();
    let mut reader = backend.open();
    let mut last = counter(reader.as_mut());
    let mut moved = |reader: &mut dyn Store, what: &str| {
        let now = counter(reader);
        assert_ne!(now, last, "{what} left the counter as it was");
        last = now;
    };
    let (a, _) = create(writer.as_mut(), &spec("a"), T0);
    moved(reader.as_mut(), "create");
    let mut names = ["b", "c"].into_iter();
    lifecycle::create_many(
        writer.as_mut(),
        &mut || Ok(names.next().map(spec)),
        change(T0),
        &mut |_, _| Ok(()),
    )
    .unwrap();
    moved(reader.as_mut(), "create_many");
    lifecycle::set_disabled(writer.as_mut(), &a.id, true, change(T0 + 1)).unwrap();
    moved(reader.as_mut(), "disable");
    lifecycle::rotate(writer.as_mut(), &a.id, Retire::Now, change(T0 + 2)).unwrap();
    moved(reader.as_mut(), "rotate");
    lifecycle::delete(writer.as_mut(), &a.id, change(T0 + 3)).unwrap();
    moved(reader.as_mut(), "delete");

    let (b, _) = create(writer.as_mut(), &spec("d"), T0 + 4);
    let before = counter(reader.as_mut());
    writer.record_uses(&[b.id.as_str(), &b.id], T0 + 5).unwrap();
    writer
        .record_use_counts(&[(b.id.as_str(), 3)], T0 + 5)
        .unwrap();
    writer
        .credentials(&[b.id.as_str()], &mut |_, _| Ok(()))
        .unwrap();
    assert_eq!(counter(reader.as_mut()), before, "uses moved the counter");
    assert_eq!(key(writer.as_mut(), &b.id).use_count, 5);

    let refused = store::transaction(writer.as_mut(), |tx| {
        tx.delete_key(&b.id)?;
        Err::<(), _>(Error::Usage("changed my mind".into()))
    });
    assert!(refused.is_err());
    assert_eq!(
        counter(reader.as_mut()),
        before,
        "a rolled-back change moved the counter"
    );
}

/// `serve` asks this at every freshness check: a store nobody replaced is
/// still the one at its location, after changes too.
fn a_connection_is_still_at_its_location_while_the_store_is_not_replaced(backend: &Backend) {
    let mut store = backend.open();
    assert!(store.still_at_location().unwrap());
    create(store.as_mut(), &spec("a"), T0);
    let mut other = backend.open();
    assert!(other.still_at_location().unwrap());
    assert!(store.still_at_location().unwrap());
}

conformance! {
    every_change_of_keys_moves_the_counter_and_uses_do_not,
    a_connection_is_still_at_its_location_while_the_store_is_not_replaced,
}

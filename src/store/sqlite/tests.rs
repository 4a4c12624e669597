//! The schema the migrations reach, and the faults refusals carry.

use rusqlite::Connection;

/// Tables, columns (name, type, not null, default, key) and indexes.
fn shape(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT m.type || ' ' || m.name || ': ' || coalesce(( \
               SELECT group_concat(c.name || ' ' || c.type || ' ' || c.\"notnull\" || ' ' || \
                      coalesce(c.dflt_value, '-') || ' ' || c.pk, ', ') \
               FROM pragma_table_info(m.name) AS c), '') || ' ' || \
             coalesce((SELECT group_concat(i.name || '(' || i.\"unique\" || ')', ', ') \
               FROM pragma_index_list(m.name) AS i), '') \
             FROM sqlite_schema AS m WHERE m.name NOT LIKE 'sqlite_%' ORDER BY m.type, m.name",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A library caller can tell why a store was refused.
#[test]
fn refusals_say_which_kind_of_fault_they_are() {
    use crate::error::StoreFault;
    use crate::store::{OpenMode, SqliteStore};
    let dir = tempfile::tempdir().unwrap();
    let fault = |path: &std::path::Path| {
        SqliteStore::open(path, OpenMode::NoCreate)
            .err()
            .and_then(|e| e.store_fault())
    };
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database at all, just some words").unwrap();
    assert_eq!(fault(&text), Some(StoreFault::Foreign));
    assert_eq!(fault(dir.path()), Some(StoreFault::Foreign));

    let newer = dir.path().join("newer.db");
    drop(SqliteStore::open(&newer, OpenMode::Create).unwrap());
    let conn = Connection::open(&newer).unwrap();
    conn.pragma_update(None, "user_version", super::schema::SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    assert_eq!(fault(&newer), Some(StoreFault::NewerSchema));

    let damaged = dir.path().join("damaged.db");
    drop(SqliteStore::open(&damaged, OpenMode::Create).unwrap());
    let mut bytes = std::fs::read(&damaged).unwrap();
    // The schema table's page, past its header: garbage.
    for b in &mut bytes[108..4096] {
        *b = 0xa5;
    }
    std::fs::write(&damaged, &bytes).unwrap();
    assert_eq!(fault(&damaged), Some(StoreFault::Damaged));
}

#[test]
fn a_new_store_has_the_schema_the_migrations_reach() {
    let migrated = Connection::open_in_memory().unwrap();
    for step in super::schema::MIGRATIONS {
        migrated.execute_batch(step).unwrap();
    }
    let fresh = Connection::open_in_memory().unwrap();
    fresh.execute_batch(super::schema::CURRENT_SCHEMA).unwrap();
    assert_eq!(shape(&fresh), shape(&migrated));
}

/// A store replaced by another file (a backup restored with `mv`) or
/// removed is told apart from the one a connection opened.
#[test]
fn a_connection_knows_when_its_file_was_replaced_or_removed() {
    use crate::store::{OpenMode, SqliteStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.db");
    let mut store = SqliteStore::open(&path, OpenMode::Create).unwrap();
    assert!(store.still_at_location().unwrap());
    let other = dir.path().join("other.db");
    drop(SqliteStore::open(&other, OpenMode::Create).unwrap());
    std::fs::rename(&other, &path).unwrap();
    assert!(!store.still_at_location().unwrap());
    assert!(
        SqliteStore::open(&path, OpenMode::NoCreate)
            .unwrap()
            .still_at_location()
            .unwrap()
    );
    std::fs::remove_file(&path).unwrap();
    let err = store.still_at_location().unwrap_err();
    assert_eq!(
        err.store_fault(),
        Some(crate::error::StoreFault::Unavailable)
    );
}

/// A writer waiting for another's lock takes it within a couple of
/// milliseconds of its release (see `open::wait_for_locks`): one that
/// looks rarely is starved by a process that takes the lock again and
/// again, microseconds apart. SQLite's own handler, sleeping 100 ms
/// between its later tries, took it 88 ms late here.
#[test]
fn a_waiting_writer_takes_the_lock_soon_after_its_release() {
    use std::time::{Duration, Instant};

    use crate::store::{OpenMode, SqliteStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.db");
    drop(SqliteStore::open(&path, OpenMode::Create).unwrap());
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut waiter =
        SqliteStore::open_with_busy_timeout(&path, OpenMode::NoCreate, Duration::from_secs(2))
            .unwrap();
    let released = std::thread::scope(|s| {
        let holding = s.spawn(move || {
            // Released between two of SQLite's own 100 ms tries (at 228
            // and 328 ms of waiting).
            std::thread::sleep(Duration::from_millis(240));
            holder.execute_batch("COMMIT").unwrap();
            Instant::now()
        });
        waiter.spend_uses(&[("nosuchkey000", 1)], 0).unwrap();
        let taken = Instant::now();
        taken.saturating_duration_since(holding.join().unwrap())
    });
    assert!(released < Duration::from_millis(50), "{released:?}");
}

//! The schema of a SQLite store: its migrations, one file each in
//! `migrations/`, and the schema they arrive at, in `schema.sql`.

use rusqlite::TransactionBehavior;

use super::SqliteStore;
use super::errors::not_a_store;
use crate::error::{Error, Result};
use crate::store::root_keys;

/// Stamped into the file header (`PRAGMA application_id`) so a keysmith store
/// is told apart from any other SQLite file: "KSMT".
pub(super) const APPLICATION_ID: i64 = 0x4B53_4D54;

/// Append-only: step N turns a version-N store into version N+1. The schema
/// version a store carries (`PRAGMA user_version`) is the number of steps applied.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_keys_and_events.sql"),
    include_str!("migrations/0002_events_by_key_seq.sql"),
    include_str!("migrations/0003_usage.sql"),
    include_str!("migrations/0004_key_changes.sql"),
    include_str!("migrations/0005_key_limits.sql"),
    include_str!("migrations/0006_owners.sql"),
    include_str!("migrations/0007_rate_leases.sql"),
    include_str!("migrations/0008_root_keys.sql"),
];

/// The version from which `keysmith:` scopes are root keys' (`root_keys`).
const ROOT_KEYS_VERSION: i64 = 8;

pub(super) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The schema MIGRATIONS arrive at, created at once in a new store (running
/// every step costs a new store tens of milliseconds). A test keeps the two equal.
pub(super) const CURRENT_SCHEMA: &str = include_str!("schema.sql");

/// The two header fields that say whose file it is and its schema version.
const SELECT_HEADER: &str =
    "SELECT application_id, user_version FROM pragma_application_id(), pragma_user_version()";

impl SqliteStore {
    pub(super) fn header(&self) -> rusqlite::Result<(i64, i64)> {
        self.conn
            .query_row(SELECT_HEADER, [], |row| Ok((row.get(0)?, row.get(1)?)))
    }

    /// Creates or migrates the schema under an exclusive lock, re-checking
    /// inside it: another process may have done the work meanwhile.
    pub(super) fn initialise(&mut self) -> rusqlite::Result<Result<()>> {
        let shown = self.shown.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)?;
        let (app_id, version): (i64, i64) =
            tx.query_row(SELECT_HEADER, [], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let tables: i64 =
            tx.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
        let from = match (app_id, version) {
            (APPLICATION_ID, v) if v > SCHEMA_VERSION => return Ok(Err(newer_schema(&shown, v))),
            (APPLICATION_ID, v) if v >= 0 => v,
            (0, 0) if tables == 0 => 0,
            _ => return Ok(Err(not_a_store(&shown))),
        };
        if from == SCHEMA_VERSION {
            // Another process finished the work while this one waited.
            return tx.commit().map(Ok);
        }
        if from == 0 {
            tx.execute_batch(CURRENT_SCHEMA)?;
        } else {
            for step in &MIGRATIONS[from as usize..] {
                tx.execute_batch(step)?;
            }
            if from < ROOT_KEYS_VERSION {
                let held = tx
                    .prepare(root_keys::HOLDING_RESERVED_SCOPES)?
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                self.warnings.extend(root_keys::warnings(held));
            }
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(Ok(()))
    }
}

/// The refusal of a store written by a newer keysmith.
pub(super) fn newer_schema(shown: &str, version: i64) -> Error {
    crate::store::newer_schema(shown, version, SCHEMA_VERSION)
}

//! The embedded SQLite backend: a store kept in one local file.
//!
//! By concern: `probe` tells what a file is from its bytes, before SQLite
//! may touch it; `open` opens or creates a store; `schema` (with the files
//! in `migrations/`) brings its schema up to date; `sql` holds every
//! statement, `rows` maps their rows to records and back, `errors` turns
//! SQLite's failures into messages; `store`, `transaction` and `bulk` are
//! the `Store`, `Transaction`, `KeyInserter` and `Importer` impls.

use std::time::Duration;

use rusqlite::Connection;

mod bulk;
mod errors;
mod leases;
mod open;
mod probe;
mod rows;
mod schema;
mod sql;
mod store;
#[cfg(test)]
mod tests;
mod transaction;

pub(crate) use probe::special as special_file_kind;

pub struct SqliteStore {
    conn: Connection,
    /// The path as shown in messages.
    shown: String,
    /// The path opened, where `Store::still_at_location` looks.
    path: std::path::PathBuf,
    /// The file that was at `path` just before the connection opened it
    /// (device, inode): the file the connection is on.
    file: Option<(u64, u64)>,
    /// What opening found worth telling; the store never prints them.
    warnings: Vec<String>,
    /// How long a statement waits for another process's lock.
    busy: Duration,
}

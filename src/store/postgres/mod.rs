//! The PostgreSQL backend: a store shared by many hosts.
//!
//! tokio-postgres runs on a private single-threaded runtime, so the rest of
//! keysmith stays synchronous and the whole connection attempt (TLS and
//! authentication included) can be bounded by `connect_timeout`. Rows are
//! fetched in batches and handed to callers outside the runtime, so a
//! caller may itself use another PostgreSQL store (`migrate`).
//!
//! By concern: `conninfo` reads the URL, `tls` sets up TLS, `connect`
//! opens a connection, `schema` (with the files in `migrations/`) brings
//! the schema up to date; `sql` holds every statement, `rows` and
//! `columns` map records to rows and column arrays, `errors` turns
//! failures into messages; `store`, `transaction` and `bulk` are the
//! `Store`, `Transaction`, `KeyInserter` and `Importer` impls.

mod bulk;
mod columns;
mod connect;
mod conninfo;
mod errors;
mod leases;
mod rows;
mod schema;
mod sql;
mod store;
mod tls;
mod transaction;

use tokio::runtime::Runtime;
use tokio_postgres::Client;

pub use connect::open;
pub use conninfo::{Target, is_url};

use crate::error::Error;

/// What went wrong inside the backend, before it becomes a message.
enum Fault {
    Postgres(tokio_postgres::Error),
    /// A row keysmith cannot have written.
    Damaged,
    /// Already a message for people.
    Said(Error),
}

impl From<tokio_postgres::Error> for Fault {
    fn from(e: tokio_postgres::Error) -> Self {
        Fault::Postgres(e)
    }
}

type Pg<T> = std::result::Result<T, Fault>;

pub struct PostgresStore {
    runtime: Runtime,
    client: Client,
    /// The URL as shown in messages, password masked.
    shown: String,
    /// What opening found worth telling (`schema`), taken by `open`.
    warnings: Vec<String>,
}

/// Whether PostgreSQL can hold `text`: its text type has no NUL byte, and
/// refuses a parameter with one (SQLSTATE 22021). No stored id or name can
/// hold one either, so a lookup of such text finds nothing.
fn storable(text: &str) -> bool {
    !text.contains('\0')
}

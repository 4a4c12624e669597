//! Connecting to a PostgreSQL store: a private single-threaded runtime,
//! TLS, the whole attempt bounded by `connect_timeout`, then the schema
//! checked and brought up to date (`schema`).

use super::conninfo::Target;
use super::errors::connect_failure;
use super::schema::Prepared;
use super::{PostgresStore, tls};
use crate::error::{Error, Result, StoreFault};
use crate::store::{OpenMode, Store};

/// Opens the store at `target`, and says whether it made the schema and
/// what migrating it found worth telling
/// (`OpenMode::Create` on an empty database). A database that holds
/// another application's tables, or a newer keysmith schema, is refused
/// untouched; with `OpenMode::NoCreate`, a database without keysmith's
/// tables is a missing store (`StoreFault::Missing`) and is left as it is.
pub fn open(target: &Target, mode: OpenMode) -> Result<(Box<dyn Store>, bool, Vec<String>)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| {
            Error::store(
                StoreFault::Unavailable,
                format!("cannot start the PostgreSQL client: {e}"),
            )
        })?;
    let connector = tls::connector(target)?;
    let connecting = target.config.connect(connector);
    let connected = runtime.block_on(async {
        match target.connect_timeout {
            Some(limit) => tokio::time::timeout(limit, connecting).await.ok(),
            None => Some(connecting.await),
        }
    });
    let (client, connection) = match connected {
        Some(Ok(pair)) => pair,
        Some(Err(e)) => return Err(connect_failure(target, &e)),
        None => {
            return Err(Error::store(
                StoreFault::Unavailable,
                format!(
                    "cannot connect to the PostgreSQL store {}: no answer within {}s \
                 (connect_timeout); check the host, the port and any firewall",
                    target.shown,
                    target.connect_timeout.map_or(0, |t| t.as_secs())
                ),
            ));
        }
    };
    // Its errors reach the client as failed calls.
    runtime.spawn(connection);
    let mut store = PostgresStore {
        runtime,
        client,
        shown: target.shown.clone(),
        warnings: Vec::new(),
    };
    let prepared = store.prepare(mode)?;
    let warnings = std::mem::take(&mut store.warnings);
    match prepared {
        Prepared::Found => Ok((Box::new(store), false, warnings)),
        Prepared::Created => Ok((Box::new(store), true, warnings)),
        Prepared::Missing => Err(crate::store::missing(&target.shown)),
    }
}

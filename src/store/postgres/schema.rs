//! The schema of a PostgreSQL store: its migrations, one file each in
//! `migrations/`, applied under an advisory lock so that hosts starting at
//! once do the work once.

use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row};

use super::errors::{failure, not_a_store};
use super::{Fault, Pg, PostgresStore};
use crate::error::{Error, Result};
use crate::store::{OpenMode, root_keys};

/// Append-only: step N turns a version-N store into version N+1; the version
/// a store carries (`keysmith_store.schema_version`) is the steps applied.
/// Tables go in the connection's current schema (the first of `search_path`).
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_keys_events_usage.sql"),
    include_str!("migrations/0002_key_changes.sql"),
    include_str!("migrations/0003_key_limits.sql"),
    include_str!("migrations/0004_owners.sql"),
    include_str!("migrations/0005_rate_leases.sql"),
    include_str!("migrations/0006_root_keys.sql"),
];

/// The version from which `keysmith:` scopes are root keys' (`root_keys`).
const ROOT_KEYS_VERSION: i32 = 6;

pub(super) const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The marker a keysmith store carries in `keysmith_store.application`.
pub(super) const APPLICATION: &str = "keysmith";

/// Held while creating or migrating the schema, so that hosts starting at
/// once do the work once: "KSMT".
pub(super) const SCHEMA_LOCK: i64 = 0x4B53_4D54;

/// Whether opening found keysmith's schema, made it, or found none.
pub(super) enum Prepared {
    Found,
    Created,
    Missing,
}

impl PostgresStore {
    /// Validates the store and brings its schema up to date; `false` when
    /// the database has no keysmith tables and `mode` forbids creating them.
    /// The common case, a current store, costs one round trip.
    pub(super) fn prepare(&mut self, mode: OpenMode) -> Result<Prepared> {
        let marker = self.runtime.block_on(self.client.query_typed(
            "SELECT application, schema_version FROM keysmith_store",
            &[],
        ));
        let rows = match marker {
            Ok(rows) => rows,
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
                if mode == OpenMode::Create {
                    return Ok(if self.initialise()? {
                        Prepared::Created
                    } else {
                        Prepared::Found
                    });
                }
                let shown = self.shown.clone();
                let state = self
                    .runtime
                    .block_on(schema_state(&self.client))
                    .map_err(|f| failure(&shown, f))?;
                return match state {
                    SchemaState::Empty => Ok(Prepared::Missing),
                    SchemaState::Foreign => Err(not_a_store(&shown)),
                    // Another host created the store since the first look.
                    SchemaState::Keysmith => self.prepare(mode),
                };
            }
            Err(e) => return Err(failure(&self.shown, e.into())),
        };
        match marker_version(&rows) {
            Some(SCHEMA_VERSION) => Ok(Prepared::Found),
            Some(version) if version > SCHEMA_VERSION => Err(newer_schema(&self.shown, version)),
            Some(_) => {
                self.initialise()?;
                Ok(Prepared::Found)
            }
            None => Err(not_a_store(&self.shown)),
        }
    }

    /// Creates or migrates the schema in one transaction under an advisory
    /// lock, re-checking inside it: another host may have done the work.
    /// Whether it made the schema in an empty database.
    fn initialise(&mut self) -> Result<bool> {
        let shown = self.shown.clone();
        let work = async {
            let tx = self.client.transaction().await?;
            tx.execute_typed(
                "SELECT pg_advisory_xact_lock($1)",
                &[(&SCHEMA_LOCK, Type::INT8)],
            )
            .await?;
            let from = match schema_state(tx.client()).await? {
                SchemaState::Keysmith => {
                    let rows = tx
                        .query_typed(
                            "SELECT application, schema_version FROM keysmith_store",
                            &[],
                        )
                        .await?;
                    match marker_version(&rows) {
                        Some(v) if v > SCHEMA_VERSION => {
                            return Err(Fault::Said(newer_schema(&shown, v)));
                        }
                        Some(v) => v,
                        None => return Err(Fault::Said(not_a_store(&shown))),
                    }
                }
                SchemaState::Empty => 0,
                SchemaState::Foreign => return Err(Fault::Said(not_a_store(&shown))),
            };
            for step in &MIGRATIONS[from as usize..] {
                tx.batch_execute(step).await?;
            }
            let mut warnings = Vec::new();
            if from > 0 && from < ROOT_KEYS_VERSION {
                let rows = tx
                    .query_typed(root_keys::HOLDING_RESERVED_SCOPES, &[])
                    .await?;
                let held = rows
                    .iter()
                    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                    .collect::<Pg<Vec<_>>>()?;
                warnings = root_keys::warnings(held);
            }
            tx.execute_typed(
                "UPDATE keysmith_store SET schema_version = $1",
                &[(&SCHEMA_VERSION, Type::INT4)],
            )
            .await?;
            tx.commit().await?;
            Ok((from == 0, warnings))
        };
        let (created, warnings) = self
            .runtime
            .block_on(work)
            .map_err(|f| failure(&shown, f))?;
        self.warnings.extend(warnings);
        Ok(created)
    }
}

/// What the connection's current schema holds.
enum SchemaState {
    Empty,
    Keysmith,
    /// Tables, but not keysmith's.
    Foreign,
}

async fn schema_state(client: &Client) -> Pg<SchemaState> {
    let row = client
        .query_typed_one(
            "SELECT to_regclass('keysmith_store') IS NOT NULL, count(c.oid) \
             FROM pg_catalog.pg_class AS c \
             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema()",
            &[],
        )
        .await?;
    Ok(
        match (row.try_get::<_, bool>(0)?, row.try_get::<_, i64>(1)?) {
            (true, _) => SchemaState::Keysmith,
            (false, 0) => SchemaState::Empty,
            (false, _) => SchemaState::Foreign,
        },
    )
}

fn marker_version(rows: &[Row]) -> Option<i32> {
    match rows {
        [row] if row.try_get::<_, &str>(0).ok() == Some(APPLICATION) => {
            row.try_get::<_, i32>(1).ok()
        }
        _ => None,
    }
}

/// The refusal of a store written by a newer keysmith.
pub(super) fn newer_schema(shown: &str, version: i32) -> Error {
    crate::store::newer_schema(shown, i64::from(version), i64::from(SCHEMA_VERSION))
}

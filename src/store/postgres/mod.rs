//! The PostgreSQL backend: a store shared by many hosts. The schema, its
//! migrations, every SQL statement and the connection live here.
//!
//! tokio-postgres runs on a private single-threaded runtime, so the rest of
//! keysmith stays synchronous and the whole connection attempt (TLS and
//! authentication included) can be bounded by `connect_timeout`. Rows are
//! fetched in batches and handed to callers outside the runtime, so a
//! caller may itself use another PostgreSQL store (`migrate`).

mod conninfo;
mod tls;

use std::collections::HashMap;

use tokio::runtime::Runtime;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, IsolationLevel, Row, Transaction};

pub use conninfo::{Target, is_url};

use super::{
    Copied, Credential, Event, EventFilter, Importer, Item, KeyFilter, KeyInserter, KeyRecord,
    Limits, OpenMode, RateLimit, Spent, Status, Store, Timestamp,
};
use crate::error::{Error, Result, StoreFault};
use crate::key::KeyHash;

/// Append-only: step N turns a version-N store into version N+1; the version
/// a store carries (`keysmith_store.schema_version`) is the steps applied.
/// Tables go in the connection's current schema (the first of `search_path`).
const MIGRATIONS: &[&str] = &[
    // Version 1: the tables of the SQLite store. Times are Unix seconds.
    "CREATE TABLE keysmith_store (
        application    text    NOT NULL,
        schema_version integer NOT NULL
    );
    CREATE TABLE keys (
        seq          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id           text    NOT NULL UNIQUE,
        hash         bytea   NOT NULL,
        prefix       text    NOT NULL,
        name         text    NOT NULL,
        description  text,
        service      text,
        disabled     boolean NOT NULL DEFAULT false,
        created_at   bigint  NOT NULL,
        expires_at   bigint,
        rotated_from text,
        replaced_by  text
    );
    CREATE TABLE events (
        seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at      bigint NOT NULL,
        action  text   NOT NULL,
        key_id  text   NOT NULL,
        actor   text   NOT NULL,
        detail  text,
        key_seq bigint
    );
    CREATE INDEX events_by_key_seq ON events (key_seq);
    CREATE TABLE usage (
        seq          bigint PRIMARY KEY,
        last_used_at bigint NOT NULL,
        use_count    bigint NOT NULL
    );
    INSERT INTO keysmith_store (application, schema_version) VALUES ('keysmith', 0);",
    // Version 2. A counter every change of keys adds one to, first thing in
    // its transaction (uses do not): `serve` reads it to know when what it
    // holds of the keys is stale. First, so that the row's lock is the
    // first a writer takes: writers queue on it and cannot deadlock over
    // key rows.
    "CREATE TABLE key_changes (n bigint NOT NULL);
    INSERT INTO key_changes (n) VALUES (0);",
    // Version 3. What a key may do (docs/src/limits.md): its scopes (space-separated),
    // the VALID verifications it has left and its rate limit; NULL for none.
    "ALTER TABLE keys ADD COLUMN scopes text,
        ADD COLUMN remaining_uses bigint,
        ADD COLUMN rate_limit bigint,
        ADD COLUMN rate_per bigint;",
];

const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The marker a keysmith store carries in `keysmith_store.application`.
const APPLICATION: &str = "keysmith";

/// Held while creating or migrating the schema, so that hosts starting at
/// once do the work once: "KSMT".
const SCHEMA_LOCK: i64 = 0x4B53_4D54;

/// Rows fetched per round trip when streaming.
const FETCH_ROWS: i32 = 2_000;

/// Keys sent per statement by bulk inserts.
const BATCH_ROWS: usize = 2_000;

macro_rules! key_columns {
    () => {
        "SELECT k.id, k.hash, k.prefix, k.name, k.description, k.service, k.disabled, \
         k.created_at, k.expires_at, u.last_used_at, coalesce(u.use_count, 0), \
         k.rotated_from, k.replaced_by, k.seq, \
         k.scopes, k.remaining_uses, k.rate_limit, k.rate_per \
         FROM keys AS k LEFT JOIN usage AS u ON u.seq = k.seq "
    };
}

const SELECT_KEY_BY_ID: &str = concat!(key_columns!(), "WHERE k.id = $1");
/// The key's row stays locked until the transaction ends: two concurrent
/// changes of one key (two `rotate`s) happen one after the other.
const LOCK_KEY_BY_ID: &str = concat!(key_columns!(), "WHERE k.id = $1 FOR UPDATE OF k");
const SELECT_CREDENTIALS: &str = "SELECT id, hash, name, service, disabled, expires_at, \
     scopes, remaining_uses, rate_limit, rate_per FROM keys WHERE id = ANY($1)";
const SELECT_KEYS_BY_SEQS: &str = concat!(key_columns!(), "WHERE k.seq = ANY($1) ORDER BY k.seq");
const SELECT_KEYS_BY_NAME: &str = concat!(key_columns!(), "WHERE k.name = $1 ORDER BY k.seq DESC");
const SELECT_ALL_KEYS: &str = concat!(key_columns!(), "ORDER BY k.seq");
const SELECT_KEYS_FILTERED: &str = concat!(
    key_columns!(),
    "WHERE ($1::text IS NULL OR k.service = $1)
       AND ($2::text IS NULL
            OR ($2 = 'disabled' AND k.disabled)
            OR ($2 = 'expired' AND NOT k.disabled AND k.expires_at <= $3)
            OR ($2 = 'enabled' AND NOT k.disabled AND (k.expires_at IS NULL OR k.expires_at > $3)))
       AND ($5::bigint IS NULL OR (k.expires_at > $3 AND k.expires_at <= $5))
       AND ($6::bigint IS NULL OR coalesce(u.last_used_at, k.created_at) <= $6)"
);
const INSERT_KEY: &str = "INSERT INTO keys (id, hash, prefix, name, description, service, disabled, \
     created_at, expires_at, rotated_from, replaced_by, scopes, remaining_uses, rate_limit, \
     rate_per) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (id) DO NOTHING";
const KEY_TYPES: [Type; 15] = [
    Type::TEXT,
    Type::BYTEA,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::BOOL,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
];
/// Keys and their `create` events, many per statement, in input order.
const INSERT_KEYS_WITH_EVENTS: &str = "WITH new AS (
        INSERT INTO keys (id, hash, prefix, name, description, service, disabled,
                          created_at, expires_at, rotated_from, replaced_by,
                          scopes, remaining_uses, rate_limit, rate_per)
        SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[],
                             $6::text[], $7::boolean[], $8::bigint[], $9::bigint[],
                             $10::text[], $11::text[], $12::text[], $13::bigint[],
                             $14::bigint[], $15::bigint[])
        ON CONFLICT (id) DO NOTHING
        RETURNING seq, id)
    INSERT INTO events (at, action, key_id, actor, detail, key_seq)
    SELECT e.at, e.action, e.key_id, e.actor, e.detail, new.seq
    FROM unnest($16::bigint[], $17::text[], $18::text[], $19::text[], $20::text[])
         WITH ORDINALITY AS e(at, action, key_id, actor, detail, n)
    JOIN new ON new.id = e.key_id
    ORDER BY e.n
    RETURNING key_seq, key_id";
/// Copied keys and their uses, many per statement, in input order.
const IMPORT_KEYS: &str = "WITH new AS (
        INSERT INTO keys (id, hash, prefix, name, description, service, disabled,
                          created_at, expires_at, rotated_from, replaced_by,
                          scopes, remaining_uses, rate_limit, rate_per)
        SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[],
                             $6::text[], $7::boolean[], $8::bigint[], $9::bigint[],
                             $10::text[], $11::text[], $12::text[], $13::bigint[],
                             $14::bigint[], $15::bigint[])
        RETURNING seq, id)
    INSERT INTO usage (seq, last_used_at, use_count)
    SELECT new.seq, u.last_used_at, u.use_count
    FROM unnest($16::text[], $17::bigint[], $18::bigint[]) AS u(id, last_used_at, use_count)
    JOIN new ON new.id = u.id";
const IMPORT_EVENTS: &str = "INSERT INTO events (at, action, key_id, actor, detail, key_seq)
    SELECT e.at, e.action, e.key_id, e.actor, e.detail,
           (SELECT seq FROM keys WHERE keys.id = e.key_id)
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
         WITH ORDINALITY AS e(at, action, key_id, actor, detail, n)
    ORDER BY e.n";
/// Clocks of many hosts disagree a little: the latest use wins.
/// By the key's id, as in SQLite: a key deleted since it was verified gets
/// no use, and no row is left for it.
const RECORD_USE: &str = "INSERT INTO usage (seq, last_used_at, use_count) \
     SELECT seq, $2, $3 FROM keys WHERE id = $1 \
     ON CONFLICT (seq) DO UPDATE SET \
     last_used_at = greatest(usage.last_used_at, excluded.last_used_at), \
     use_count = usage.use_count + excluded.use_count";
/// Each distinct id is looked up through the id index (LATERAL: a join
/// could choose to scan every key), and the rows are written in `seq`
/// order, so that two batches touching the same keys cannot deadlock.
const RECORD_USES: &str = "INSERT INTO usage (seq, last_used_at, use_count) \
     SELECT k.seq, $2, u.n \
     FROM (SELECT id, sum(n)::bigint AS n FROM unnest($1::text[], $3::bigint[]) AS t (id, n) \
           GROUP BY id) AS u \
     CROSS JOIN LATERAL (SELECT seq FROM keys WHERE keys.id = u.id) AS k \
     ORDER BY k.seq \
     ON CONFLICT (seq) DO UPDATE SET \
     last_used_at = greatest(usage.last_used_at, excluded.last_used_at), \
     use_count = usage.use_count + excluded.use_count";
/// Run first by every transaction that may change keys (see migration 2).
const COUNT_CHANGE: &str = "UPDATE key_changes SET n = n + 1";
/// A key is durable before it is shown (docs/src/store.md, as SQLite's
/// `synchronous=FULL`): the commit of a new key waits for the server's WAL
/// flush even where the server, database or role turned
/// `synchronous_commit` off for speed. Only for this transaction; a
/// stronger setting (`remote_apply`, ...) is kept.
const DURABLE_COMMIT: &str = "SELECT set_config('synchronous_commit', 'on', true) \
     WHERE current_setting('synchronous_commit') = 'off'";
const INSERT_EVENT: &str = "INSERT INTO events (at, action, key_id, actor, detail, key_seq) \
     VALUES ($1, $2, $3, $4, $5, (SELECT seq FROM keys WHERE id = $3))";

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
}

/// Opens the store at `target`. A database that holds another
/// application's tables, or a newer keysmith schema, is refused untouched;
/// with `OpenMode::NoCreate`, a database without keysmith's tables is a
/// missing store (`StoreFault::Missing`) and is left as it is.
/// Whether opening found keysmith's schema, made it, or found none.
enum Prepared {
    Found,
    Created,
    Missing,
}

/// Also says whether it made the schema (`OpenMode::Create` on an empty
/// database).
pub fn open(target: &Target, mode: OpenMode) -> Result<(Box<dyn Store>, bool)> {
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
    };
    match store.prepare(mode)? {
        Prepared::Found => Ok((Box::new(store), false)),
        Prepared::Created => Ok((Box::new(store), true)),
        Prepared::Missing => Err(super::missing(&target.shown)),
    }
}

fn connect_failure(target: &Target, e: &tokio_postgres::Error) -> Error {
    let shown = &target.shown;
    let user = target.config.get_user().unwrap_or_default();
    let message = match e.code() {
        Some(code) if *code == SqlState::INVALID_PASSWORD => format!(
            "password authentication failed for user {user} at {shown}; check the password \
             (in the URL, PGPASSWORD or ~/.pgpass)"
        ),
        Some(code) if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => format!(
            "the PostgreSQL server at {shown} refused user {user}: {}",
            e.as_db_error().map_or("", |d| d.message())
        ),
        Some(code) if *code == SqlState::INVALID_CATALOG_NAME => format!(
            "the database of {shown} does not exist; create it first (createdb {})",
            target.config.get_dbname().unwrap_or_default()
        ),
        Some(code) if *code == SqlState::TOO_MANY_CONNECTIONS => {
            format!("the PostgreSQL server at {shown} has too many connections; try again")
        }
        _ => {
            let cause = std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string());
            if cause.to_ascii_lowercase().contains("password missing") {
                format!(
                    "the PostgreSQL server at {shown} asks for a password; give it in the URL, \
                     PGPASSWORD or ~/.pgpass"
                )
            } else if is_tls_failure(e) {
                format!(
                    "cannot set up TLS with the PostgreSQL server at {shown}: {cause}; \
                     check sslmode and sslrootcert"
                )
            } else {
                let hint = match io_error_kind(e) {
                    Some(std::io::ErrorKind::ConnectionRefused) => {
                        "; is the server running and listening on that host and port?"
                    }
                    Some(std::io::ErrorKind::NotFound) => {
                        "; no server socket there: is the server running? \
                         Name its host in the URL or in PGHOST"
                    }
                    _ => "",
                };
                format!("cannot connect to the PostgreSQL store {shown}: {cause}{hint}")
            }
        }
    };
    Error::store(StoreFault::Unavailable, message)
}

fn io_error_kind(e: &tokio_postgres::Error) -> Option<std::io::ErrorKind> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = s.source();
    }
    None
}

fn is_tls_failure(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        source = s.source();
    }
    e.to_string().contains("TLS")
}

/// Turns a failure into a message for people: what is wrong and what to
/// do, never SQL text.
fn failure(shown: &str, fault: Fault) -> Error {
    let e = match fault {
        Fault::Said(error) => return error,
        Fault::Damaged => {
            return Error::store(
                StoreFault::Damaged,
                format!(
                    "the PostgreSQL store {shown} holds a row keysmith did not write; \
                 restore it from a backup"
                ),
            );
        }
        Fault::Postgres(e) => e,
    };
    let Some(code) = e.code() else {
        return Error::store(
            StoreFault::Unavailable,
            format!("lost the connection to the PostgreSQL store {shown}; try again"),
        );
    };
    let detail = e.as_db_error().map_or("", |d| d.message());
    let (fault, message) = if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        (
            StoreFault::Unavailable,
            format!(
                "the PostgreSQL user may not do this in {shown} ({detail}); \
             ask the database owner for rights on keysmith's tables"
            ),
        )
    } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        (
            StoreFault::Unavailable,
            format!(
                "the PostgreSQL store {shown} is read-only (a standby?); point --db at the primary"
            ),
        )
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
    {
        (
            StoreFault::Busy,
            format!("the PostgreSQL store {shown} was busy with a conflicting change; try again"),
        )
    } else if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE {
        return Error::Usage(format!(
            "text with a NUL byte cannot be stored in the PostgreSQL store {shown}; nothing was written"
        ));
    } else if *code == SqlState::INVALID_SCHEMA_NAME {
        (
            StoreFault::Unavailable,
            format!(
                "the database of {shown} has no schema to keep keysmith's tables in; \
                 check its search_path"
            ),
        )
    } else if code.code().starts_with("53") || code.code().starts_with("57") {
        (
            StoreFault::Unavailable,
            format!(
                "the PostgreSQL server of {shown} cannot serve now ({detail}); try again later"
            ),
        )
    } else {
        (
            StoreFault::Damaged,
            format!(
                "the PostgreSQL store {shown} could not be used (SQLSTATE {}); \
                 its tables may have been changed by hand",
                code.code()
            ),
        )
    };
    Error::store(fault, message)
}

fn not_a_store(shown: &str) -> Error {
    Error::store(
        StoreFault::Foreign,
        format!(
            "{shown} is not a keysmith store: its schema holds other tables; it was left unchanged. \
         Use an empty database, or a schema of keysmith's own (options=-csearch_path%3Dkeysmith)"
        ),
    )
}

fn newer_schema(shown: &str, version: i32) -> Error {
    super::newer_schema(shown, i64::from(version), i64::from(SCHEMA_VERSION))
}

impl PostgresStore {
    /// Validates the store and brings its schema up to date; `false` when
    /// the database has no keysmith tables and `mode` forbids creating them.
    /// The common case, a current store, costs one round trip.
    fn prepare(&mut self, mode: OpenMode) -> Result<Prepared> {
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
            tx.execute_typed(
                "UPDATE keysmith_store SET schema_version = $1",
                &[(&SCHEMA_VERSION, Type::INT4)],
            )
            .await?;
            tx.commit().await?;
            Ok(from == 0)
        };
        self.runtime.block_on(work).map_err(|f| failure(&shown, f))
    }

    /// Runs `work` in one read-write transaction and commits.
    fn write_async<T>(&mut self, work: impl AsyncFnOnce(&Transaction<'_>) -> Pg<T>) -> Result<T> {
        let client = &mut self.client;
        let done = self.runtime.block_on(async move {
            let tx = client.transaction().await?;
            let value = work(&tx).await?;
            tx.commit().await?;
            Ok(value)
        });
        done.map_err(|f| failure(&self.shown, f))
    }

    /// Streams the rows of `sql` to `each` in batches, from one consistent
    /// snapshot; `each` runs outside the runtime.
    fn stream(
        &mut self,
        queries: &[(&str, &[&(dyn ToSql + Sync)])],
        each: &mut dyn FnMut(usize, &Row) -> Result<()>,
    ) -> Result<()> {
        let shown = self.shown.clone();
        let fail = |f: Fault| failure(&shown, f);
        let runtime = &self.runtime;
        let tx = runtime
            .block_on(
                self.client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start(),
            )
            .map_err(|e| fail(e.into()))?;
        for (index, (sql, params)) in queries.iter().enumerate() {
            let portal = runtime
                .block_on(async {
                    let statement = tx.prepare(sql).await?;
                    tx.bind(&statement, params).await
                })
                .map_err(|e| fail(e.into()))?;
            loop {
                let rows = runtime
                    .block_on(tx.query_portal(&portal, FETCH_ROWS))
                    .map_err(|e| fail(e.into()))?;
                for row in &rows {
                    each(index, row)?;
                }
                if rows.len() < FETCH_ROWS as usize {
                    break;
                }
            }
        }
        runtime.block_on(tx.commit()).map_err(|e| fail(e.into()))
    }

    fn read_keys(
        &mut self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<KeyRecord>> {
        let shown = self.shown.clone();
        let rows = self
            .runtime
            .block_on(self.client.query_typed(sql, params))
            .map_err(|e| failure(&shown, e.into()))?;
        rows.iter()
            .map(key_from_row)
            .collect::<Pg<_>>()
            .map_err(|f| failure(&shown, f))
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

fn key_from_row(row: &Row) -> Pg<KeyRecord> {
    let hash: &[u8] = row.try_get(1)?;
    Ok(KeyRecord {
        id: row.try_get(0)?,
        hash: KeyHash(hash.try_into().map_err(|_| Fault::Damaged)?),
        prefix: row.try_get(2)?,
        name: row.try_get(3)?,
        description: row.try_get(4)?,
        service: row.try_get(5)?,
        disabled: row.try_get(6)?,
        created_at: row.try_get(7)?,
        expires_at: row.try_get(8)?,
        last_used_at: row.try_get(9)?,
        use_count: row.try_get(10)?,
        rotated_from: row.try_get(11)?,
        replaced_by: row.try_get(12)?,
        limits: limits_from_row(row, 14)?,
    })
}

/// The limits in the four columns from `first` on: scopes, remaining
/// uses, rate limit and its window.
fn limits_from_row(row: &Row, first: usize) -> Pg<Limits> {
    let limit: Option<i64> = row.try_get(first + 2)?;
    let per: Option<i64> = row.try_get(first + 3)?;
    let rate = match limit.zip(per) {
        None => None,
        Some((limit, per)) => Some(RateLimit {
            limit: u32::try_from(limit).map_err(|_| Fault::Damaged)?,
            per_seconds: u32::try_from(per).map_err(|_| Fault::Damaged)?,
        }),
    };
    Ok(Limits {
        scopes: Limits::scopes_from(row.try_get(first)?),
        remaining_uses: row.try_get(first + 1)?,
        rate,
    })
}

fn credential_from_row(row: &Row) -> Pg<Credential> {
    let hash: &[u8] = row.try_get(1)?;
    Ok(Credential {
        id: row.try_get(0)?,
        hash: KeyHash(hash.try_into().map_err(|_| Fault::Damaged)?),
        name: row.try_get(2)?,
        service: row.try_get(3)?,
        disabled: row.try_get(4)?,
        expires_at: row.try_get(5)?,
        limits: limits_from_row(row, 6)?,
    })
}

fn event_from_row(row: &Row) -> Pg<Event> {
    Ok(Event {
        at: row.try_get(0)?,
        action: row.try_get(1)?,
        key_id: row.try_get(2)?,
        actor: row.try_get(3)?,
        detail: row.try_get(4)?,
    })
}

async fn lock_key(tx: &Transaction<'_>, id: &str) -> Pg<Option<KeyRecord>> {
    let rows = tx.query_typed(LOCK_KEY_BY_ID, &[(&id, Type::TEXT)]).await?;
    rows.first().map(key_from_row).transpose()
}

async fn insert_key(tx: &Transaction<'_>, key: &KeyRecord) -> Pg<bool> {
    let hash: &[u8] = &key.hash.0;
    let scopes = key.limits.scopes_text();
    let (rate_limit, rate_per) = rate_columns(key);
    let values: [&(dyn ToSql + Sync); 15] = [
        &key.id,
        &hash,
        &key.prefix,
        &key.name,
        &key.description,
        &key.service,
        &key.disabled,
        &key.created_at,
        &key.expires_at,
        &key.rotated_from,
        &key.replaced_by,
        &scopes,
        &key.limits.remaining_uses,
        &rate_limit,
        &rate_per,
    ];
    let params: Vec<(&(dyn ToSql + Sync), Type)> =
        values.into_iter().zip(KEY_TYPES.iter().cloned()).collect();
    Ok(tx.execute_typed(INSERT_KEY, &params).await? == 1)
}

/// A key's rate limit as its two columns.
fn rate_columns(key: &KeyRecord) -> (Option<i64>, Option<i64>) {
    let rate = key.limits.rate;
    (
        rate.map(|r| i64::from(r.limit)),
        rate.map(|r| i64::from(r.per_seconds)),
    )
}

async fn insert_event(tx: &Transaction<'_>, event: &Event) -> Pg<()> {
    tx.execute_typed(
        INSERT_EVENT,
        &[
            (&event.at, Type::INT8),
            (&event.action, Type::TEXT),
            (&event.key_id, Type::TEXT),
            (&event.actor, Type::TEXT),
            (&event.detail, Type::TEXT),
        ],
    )
    .await?;
    Ok(())
}

/// Columns of many keys, as the arrays `unnest` turns back into rows.
#[derive(Default)]
struct KeyColumns {
    id: Vec<String>,
    hash: Vec<Vec<u8>>,
    prefix: Vec<String>,
    name: Vec<String>,
    description: Vec<Option<String>>,
    service: Vec<Option<String>>,
    disabled: Vec<bool>,
    created_at: Vec<i64>,
    expires_at: Vec<Option<i64>>,
    rotated_from: Vec<Option<String>>,
    replaced_by: Vec<Option<String>>,
    scopes: Vec<Option<String>>,
    remaining_uses: Vec<Option<i64>>,
    rate_limit: Vec<Option<i64>>,
    rate_per: Vec<Option<i64>>,
}

impl KeyColumns {
    fn push(&mut self, key: &KeyRecord) {
        self.id.push(key.id.clone());
        self.hash.push(key.hash.0.to_vec());
        self.prefix.push(key.prefix.clone());
        self.name.push(key.name.clone());
        self.description.push(key.description.clone());
        self.service.push(key.service.clone());
        self.disabled.push(key.disabled);
        self.created_at.push(key.created_at);
        self.expires_at.push(key.expires_at);
        self.rotated_from.push(key.rotated_from.clone());
        self.replaced_by.push(key.replaced_by.clone());
        self.scopes.push(key.limits.scopes_text());
        self.remaining_uses.push(key.limits.remaining_uses);
        let (limit, per) = rate_columns(key);
        self.rate_limit.push(limit);
        self.rate_per.push(per);
    }

    fn len(&self) -> usize {
        self.id.len()
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 15] {
        [
            &self.id,
            &self.hash,
            &self.prefix,
            &self.name,
            &self.description,
            &self.service,
            &self.disabled,
            &self.created_at,
            &self.expires_at,
            &self.rotated_from,
            &self.replaced_by,
            &self.scopes,
            &self.remaining_uses,
            &self.rate_limit,
            &self.rate_per,
        ]
    }
}

#[derive(Default)]
struct EventColumns {
    at: Vec<i64>,
    action: Vec<String>,
    key_id: Vec<String>,
    actor: Vec<String>,
    detail: Vec<Option<String>>,
}

impl EventColumns {
    fn push(&mut self, event: &Event) {
        self.at.push(event.at);
        self.action.push(event.action.clone());
        self.key_id.push(event.key_id.clone());
        self.actor.push(event.actor.clone());
        self.detail.push(event.detail.clone());
    }

    fn len(&self) -> usize {
        self.at.len()
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 5] {
        [
            &self.at,
            &self.action,
            &self.key_id,
            &self.actor,
            &self.detail,
        ]
    }
}

/// `insert_batch`'s inserter: sends the keys of each call in one
/// statement, and keeps the `seq` of each so they can be read back after
/// the commit.
struct BatchInserter<'a, 't> {
    runtime: &'a Runtime,
    tx: &'a Transaction<'t>,
    statement: tokio_postgres::Statement,
    shown: &'a str,
    seqs: Vec<i64>,
}

impl KeyInserter for BatchInserter<'_, '_> {
    fn insert(&mut self, keys: &[KeyRecord], events: &[Event]) -> Result<Vec<usize>> {
        let mut taken = Vec::new();
        let chunks = keys.chunks(BATCH_ROWS).zip(events.chunks(BATCH_ROWS));
        for (n, (key_chunk, event_chunk)) in chunks.enumerate() {
            let offset = n * BATCH_ROWS;
            let mut columns = KeyColumns::default();
            let mut event_columns = EventColumns::default();
            key_chunk.iter().for_each(|key| columns.push(key));
            event_chunk
                .iter()
                .for_each(|event| event_columns.push(event));
            let mut params: Vec<&(dyn ToSql + Sync)> = columns.params().to_vec();
            params.extend(event_columns.params());
            let rows = self
                .runtime
                .block_on(self.tx.query(&self.statement, &params))
                .map_err(|e| failure(self.shown, e.into()))?;
            // A key whose id is taken is skipped (ON CONFLICT DO NOTHING),
            // and so is its event: as in SQLite, the caller mints it again.
            let mut added = std::collections::HashSet::with_capacity(rows.len());
            for row in rows {
                let seq: i64 = row.try_get(0).map_err(|e| failure(self.shown, e.into()))?;
                let id: String = row.try_get(1).map_err(|e| failure(self.shown, e.into()))?;
                self.seqs.push(seq);
                added.insert(id);
            }
            taken.extend(
                key_chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, key)| !added.contains(&key.id))
                    .map(|(i, _)| offset + i),
            );
        }
        Ok(taken)
    }
}

/// `import`'s importer: keys many to a statement, then events likewise.
struct BatchImporter<'a, 't> {
    runtime: &'a Runtime,
    tx: &'a Transaction<'t>,
    shown: &'a str,
    keys: KeyColumns,
    used: (Vec<String>, Vec<i64>, Vec<i64>),
    events: EventColumns,
    copied: Copied,
}

impl BatchImporter<'_, '_> {
    fn flush(&mut self) -> Result<()> {
        let fail = |e: tokio_postgres::Error| failure(self.shown, e.into());
        if self.keys.len() > 0 {
            let mut params: Vec<&(dyn ToSql + Sync)> = self.keys.params().to_vec();
            params.extend([
                &self.used.0 as &(dyn ToSql + Sync),
                &self.used.1,
                &self.used.2,
            ]);
            self.runtime
                .block_on(self.tx.execute(IMPORT_KEYS, &params))
                .map_err(fail)?;
            self.keys = KeyColumns::default();
            self.used = Default::default();
        }
        if self.events.len() > 0 {
            self.runtime
                .block_on(self.tx.execute(IMPORT_EVENTS, &self.events.params()))
                .map_err(fail)?;
            self.events = EventColumns::default();
        }
        Ok(())
    }
}

impl Importer for BatchImporter<'_, '_> {
    fn add(&mut self, item: Item<'_>) -> Result<()> {
        match item {
            Item::Key(key) => {
                // Events resolve their key's `seq`: keys go first.
                if self.events.len() > 0 {
                    self.flush()?;
                }
                self.keys.push(key);
                if key.use_count > 0 || key.last_used_at.is_some() {
                    self.used.0.push(key.id.clone());
                    self.used.1.push(key.last_used_at.unwrap_or(key.created_at));
                    self.used.2.push(key.use_count);
                }
                self.copied.keys += 1;
            }
            Item::Event(event) => {
                if self.keys.len() > 0 {
                    self.flush()?;
                }
                self.events.push(event);
                self.copied.events += 1;
            }
        }
        if self.keys.len() + self.events.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }
}

/// Whether PostgreSQL can hold `text`: its text type has no NUL byte, and
/// refuses a parameter with one (SQLSTATE 22021). No stored id or name can
/// hold one either, so a lookup of such text finds nothing.
fn storable(text: &str) -> bool {
    !text.contains('\0')
}

/// The steps of `Store::write` on one PostgreSQL transaction.
struct PgTransaction<'a, 't> {
    runtime: &'a Runtime,
    tx: &'a Transaction<'t>,
    shown: &'a str,
    /// Whether this transaction already asked for a durable commit.
    durable: bool,
}

impl PgTransaction<'_, '_> {
    fn run<T>(&self, work: impl Future<Output = Pg<T>>) -> Result<T> {
        self.runtime
            .block_on(work)
            .map_err(|f| failure(self.shown, f))
    }
}

impl crate::store::Transaction for PgTransaction<'_, '_> {
    fn lock_key(&mut self, id: &str) -> Result<Option<KeyRecord>> {
        if !storable(id) {
            return Ok(None);
        }
        self.run(lock_key(self.tx, id))
    }

    fn insert_key(&mut self, key: &KeyRecord) -> Result<bool> {
        if !self.durable {
            self.run(async { Ok(self.tx.batch_execute(DURABLE_COMMIT).await?) })?;
            self.durable = true;
        }
        self.run(insert_key(self.tx, key))
    }

    fn save_key(&mut self, key: &KeyRecord) -> Result<()> {
        let scopes = key.limits.scopes_text();
        let (rate_limit, rate_per) = rate_columns(key);
        self.run(async {
            self.tx
                .execute_typed(
                    "UPDATE keys SET name = $2, description = $3, service = $4, disabled = $5, \
                     expires_at = $6, replaced_by = $7, scopes = $8, remaining_uses = $9, \
                     rate_limit = $10, rate_per = $11 WHERE id = $1",
                    &[
                        (&key.id, Type::TEXT),
                        (&key.name, Type::TEXT),
                        (&key.description, Type::TEXT),
                        (&key.service, Type::TEXT),
                        (&key.disabled, Type::BOOL),
                        (&key.expires_at, Type::INT8),
                        (&key.replaced_by, Type::TEXT),
                        (&scopes, Type::TEXT),
                        (&key.limits.remaining_uses, Type::INT8),
                        (&rate_limit, Type::INT8),
                        (&rate_per, Type::INT8),
                    ],
                )
                .await?;
            Ok(())
        })
    }

    fn delete_key(&mut self, id: &str) -> Result<bool> {
        if !storable(id) {
            return Ok(false);
        }
        self.run(async {
            // Both deletions run: the key, and its uses found by its `seq`.
            let row = self
                .tx
                .query_one(
                    "WITH gone AS (DELETE FROM keys WHERE id = $1 RETURNING seq), \
                     uses AS (DELETE FROM usage WHERE seq IN (SELECT seq FROM gone)) \
                     SELECT count(*) FROM gone",
                    &[&id],
                )
                .await?;
            Ok(row.try_get::<_, i64>(0)? > 0)
        })
    }

    fn append_event(&mut self, event: &Event) -> Result<()> {
        self.run(insert_event(self.tx, event))
    }
}

impl Store for PostgresStore {
    fn schema_version(&self) -> i64 {
        i64::from(SCHEMA_VERSION)
    }

    fn write(
        &mut self,
        work: &mut dyn FnMut(&mut dyn crate::store::Transaction) -> Result<()>,
    ) -> Result<()> {
        let PostgresStore {
            runtime,
            client,
            shown,
        } = self;
        let tx = runtime
            .block_on(async {
                let tx = client.transaction().await?;
                tx.batch_execute(COUNT_CHANGE).await?;
                Ok::<_, tokio_postgres::Error>(tx)
            })
            .map_err(|e| failure(shown, e.into()))?;
        work(&mut PgTransaction {
            runtime,
            tx: &tx,
            shown,
            durable: false,
        })?;
        runtime
            .block_on(tx.commit())
            .map_err(|e| failure(shown, e.into()))
    }

    fn insert_batch(
        &mut self,
        fill: &mut dyn FnMut(&mut dyn KeyInserter) -> Result<()>,
        committed: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> Result<u64> {
        let shown = self.shown.clone();
        let fail = |e: tokio_postgres::Error| failure(&shown, e.into());
        let runtime = &self.runtime;
        let tx = runtime.block_on(self.client.transaction()).map_err(fail)?;
        let statement = runtime
            .block_on(async {
                tx.batch_execute(COUNT_CHANGE).await?;
                tx.batch_execute(DURABLE_COMMIT).await?;
                tx.prepare(INSERT_KEYS_WITH_EVENTS).await
            })
            .map_err(fail)?;
        let mut inserter = BatchInserter {
            runtime,
            tx: &tx,
            statement,
            shown: &shown,
            seqs: Vec::new(),
        };
        fill(&mut inserter)?;
        let mut seqs = std::mem::take(&mut inserter.seqs);
        drop(inserter);
        runtime.block_on(tx.commit()).map_err(fail)?;
        seqs.sort_unstable();
        let mut count = 0;
        for chunk in seqs.chunks(10_000) {
            let keys = self.read_keys(SELECT_KEYS_BY_SEQS, &[(&chunk, Type::INT8_ARRAY)])?;
            for key in keys {
                committed(&key)?;
                count += 1;
            }
        }
        Ok(count)
    }

    fn key_by_id(&mut self, id: &str) -> Result<Option<KeyRecord>> {
        if !storable(id) {
            return Ok(None);
        }
        Ok(self
            .read_keys(SELECT_KEY_BY_ID, &[(&id, Type::TEXT)])?
            .into_iter()
            .next())
    }

    fn credentials(
        &mut self,
        ids: &[&str],
        each: &mut dyn FnMut(usize, Option<Credential>) -> Result<()>,
    ) -> Result<()> {
        let shown = self.shown.clone();
        let asked: Vec<&str> = ids.iter().copied().filter(|id| storable(id)).collect();
        let rows = self
            .runtime
            .block_on(
                self.client
                    .query_typed(SELECT_CREDENTIALS, &[(&asked, Type::TEXT_ARRAY)]),
            )
            .map_err(|e| failure(&shown, e.into()))?;
        let found: HashMap<String, Credential> = rows
            .iter()
            .map(|row| credential_from_row(row).map(|c| (c.id.clone(), c)))
            .collect::<Pg<_>>()
            .map_err(|f| failure(&shown, f))?;
        for (i, id) in ids.iter().enumerate() {
            // Cloned: an id may be presented more than once.
            each(i, found.get(*id).cloned())?;
        }
        Ok(())
    }

    fn keys_by_name(&mut self, name: &str) -> Result<Vec<KeyRecord>> {
        if !storable(name) {
            return Ok(Vec::new());
        }
        self.read_keys(SELECT_KEYS_BY_NAME, &[(&name, Type::TEXT)])
    }

    fn events(
        &mut self,
        filter: &EventFilter<'_>,
        each: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()> {
        let key_id = filter.key_id;
        if key_id.is_some_and(|id| !storable(id)) {
            return Ok(());
        }
        let limit = filter.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let actions = (!filter.actions.is_empty()).then_some(filter.actions);
        let shown = self.shown.clone();
        let sql = match key_id {
            // A stored key's events by its `seq` (the id check guards against
            // a stale `seq`); a deleted key's by scanning for its id.
            Some(_) => concat!(
                "SELECT at, action, key_id, actor, detail FROM events ",
                "WHERE key_id = $1 AND (key_seq = (SELECT seq FROM keys WHERE id = $1) ",
                "OR NOT EXISTS (SELECT 1 FROM keys WHERE id = $1)) ",
                "AND ($3::bigint IS NULL OR at >= $3) AND ($4::text[] IS NULL OR action = ANY($4)) ",
                "ORDER BY seq DESC LIMIT $2"
            ),
            None => concat!(
                "SELECT at, action, key_id, actor, detail FROM events ",
                "WHERE $1::text IS NULL ",
                "AND ($3::bigint IS NULL OR at >= $3) AND ($4::text[] IS NULL OR action = ANY($4)) ",
                "ORDER BY seq DESC LIMIT $2"
            ),
        };
        let params: [&(dyn ToSql + Sync); 4] = [&key_id, &limit, &filter.since, &actions];
        self.stream(&[(sql, &params)], &mut |_, row| {
            each(event_from_row(row).map_err(|f| failure(&shown, f))?)
        })
    }

    fn change_counter(&mut self) -> Result<Option<u64>> {
        // Committed changes only (each statement's own snapshot), of every
        // host: one round trip.
        let shown = self.shown.clone();
        let row = self
            .runtime
            .block_on(
                self.client
                    .query_typed_one("SELECT n FROM key_changes", &[]),
            )
            .map_err(|e| failure(&shown, e.into()))?;
        Ok(Some(row.get::<_, i64>(0) as u64))
    }

    fn prefixes(&mut self) -> Result<Vec<String>> {
        let shown = self.shown.clone();
        let rows = self
            .runtime
            .block_on(
                self.client
                    .query_typed("SELECT DISTINCT prefix FROM keys ORDER BY prefix", &[]),
            )
            .map_err(|e| failure(&shown, e.into()))?;
        rows.iter()
            .map(|row| row.try_get(0).map_err(|e| failure(&shown, e.into())))
            .collect()
    }

    fn services(&mut self) -> Result<Vec<String>> {
        let shown = self.shown.clone();
        let rows = self
            .runtime
            // Byte order, as SQLite sorts (a locale's collation skips `-`).
            .block_on(self.client.query_typed(
                "SELECT DISTINCT service COLLATE \"C\" AS service FROM keys \
                 WHERE service IS NOT NULL ORDER BY service",
                &[],
            ))
            .map_err(|e| failure(&shown, e.into()))?;
        rows.iter()
            .map(|row| row.try_get(0).map_err(|e| failure(&shown, e.into())))
            .collect()
    }

    fn record_use_counts(&mut self, uses: &[(&str, u64)], at: Timestamp) -> Result<()> {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let (ids, counts): (Vec<&str>, Vec<i64>) = uses
            .iter()
            .filter(|(id, _)| storable(id))
            .map(|&(id, n)| (id, count(n)))
            .unzip();
        if let ([id], [n]) = (ids.as_slice(), counts.as_slice()) {
            // One key (`verify`): one statement, one round trip.
            let shown = self.shown.clone();
            return self
                .runtime
                .block_on(self.client.execute_typed(
                    RECORD_USE,
                    &[(id, Type::TEXT), (&at, Type::INT8), (n, Type::INT8)],
                ))
                .map(drop)
                .map_err(|e| failure(&shown, e.into()));
        }
        self.write_async(async |tx| {
            tx.execute_typed(
                RECORD_USES,
                &[
                    (&ids, Type::TEXT_ARRAY),
                    (&at, Type::INT8),
                    (&counts, Type::INT8_ARRAY),
                ],
            )
            .await?;
            Ok(())
        })
    }

    fn spend_uses(&mut self, wanted: &[(&str, u64)], at: Timestamp) -> Result<Vec<Option<Spent>>> {
        let asked: Vec<&str> = wanted
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| storable(id))
            .collect();
        let found = self.write_async(async |tx| {
            // A lost decrement would grant a use twice: durable, as a new key.
            tx.batch_execute(DURABLE_COMMIT).await?;
            // Locked in `seq` order, so two spenders cannot deadlock; each
            // waits for the other's commit and then reads what it left.
            let rows = tx
                .query_typed(
                    "SELECT id, remaining_uses FROM keys WHERE id = ANY($1) \
                     ORDER BY seq FOR UPDATE",
                    &[(&asked, Type::TEXT_ARRAY)],
                )
                .await?;
            let mut left: HashMap<String, Option<i64>> = HashMap::with_capacity(rows.len());
            for row in &rows {
                left.insert(row.try_get(0)?, row.try_get(1)?);
            }
            let answers: Vec<Option<Spent>> = wanted
                .iter()
                .map(|(id, n)| left.get(*id).map(|remaining| Spent::of(*remaining, *n)))
                .collect();
            let (mut limited, mut remaining) = (Vec::new(), Vec::new());
            let (mut used, mut counts) = (Vec::new(), Vec::new());
            for ((id, _), spent) in wanted.iter().zip(&answers) {
                let Some(spent) = spent.filter(|s| s.granted > 0) else {
                    continue;
                };
                if let Some(r) = spent.remaining {
                    limited.push(*id);
                    remaining.push(r);
                }
                used.push(*id);
                counts.push(i64::try_from(spent.granted).unwrap_or(i64::MAX));
            }
            if !limited.is_empty() {
                tx.execute_typed(
                    "UPDATE keys SET remaining_uses = u.r \
                     FROM unnest($1::text[], $2::bigint[]) AS u (id, r) WHERE keys.id = u.id",
                    &[(&limited, Type::TEXT_ARRAY), (&remaining, Type::INT8_ARRAY)],
                )
                .await?;
            }
            if !used.is_empty() {
                tx.execute_typed(
                    RECORD_USES,
                    &[
                        (&used, Type::TEXT_ARRAY),
                        (&at, Type::INT8),
                        (&counts, Type::INT8_ARRAY),
                    ],
                )
                .await?;
            }
            Ok(answers)
        })?;
        Ok(found)
    }

    fn list_keys(
        &mut self,
        filter: &KeyFilter,
        each: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> Result<()> {
        let shown = self.shown.clone();
        let status = filter.status.map(Status::as_str);
        let limit = filter.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let params: [&(dyn ToSql + Sync); 6] = [
            &filter.service,
            &status,
            &filter.now,
            &limit,
            &filter.expiring_by,
            &filter.unused_since,
        ];
        let query = filter.order.sql(SELECT_KEYS_FILTERED, "$4");
        self.stream(&[(&query, &params)], &mut |_, row| {
            each(&key_from_row(row).map_err(|f| failure(&shown, f))?)
        })
    }

    fn export(&mut self, each: &mut dyn FnMut(Item<'_>) -> Result<()>) -> Result<()> {
        let shown = self.shown.clone();
        let all_events = concat!(
            "SELECT at, action, key_id, actor, detail FROM events ",
            "ORDER BY seq"
        );
        self.stream(
            &[(SELECT_ALL_KEYS, &[]), (all_events, &[])],
            &mut |query, row| match query {
                0 => each(Item::Key(
                    &key_from_row(row).map_err(|f| failure(&shown, f))?,
                )),
                _ => each(Item::Event(
                    &event_from_row(row).map_err(|f| failure(&shown, f))?,
                )),
            },
        )
    }

    fn import(&mut self, fill: &mut dyn FnMut(&mut dyn Importer) -> Result<()>) -> Result<Copied> {
        let shown = self.shown.clone();
        let fail = |e: tokio_postgres::Error| failure(&shown, e.into());
        let runtime = &self.runtime;
        let tx = runtime.block_on(self.client.transaction()).map_err(fail)?;
        let occupied: bool = runtime
            .block_on(async {
                // Nobody adds keys while the copy runs; readers go on. The
                // copied keys are durable once reported, as new ones are.
                tx.batch_execute(COUNT_CHANGE).await?;
                tx.batch_execute("LOCK TABLE keys, events IN EXCLUSIVE MODE")
                    .await?;
                tx.batch_execute(DURABLE_COMMIT).await?;
                tx.query_typed_one(
                    "SELECT EXISTS (SELECT 1 FROM keys) OR EXISTS (SELECT 1 FROM events)",
                    &[],
                )
                .await
            })
            .map_err(fail)?
            .get(0);
        if occupied {
            return Err(super::occupied(&shown));
        }
        let mut importer = BatchImporter {
            runtime,
            tx: &tx,
            shown: &shown,
            keys: KeyColumns::default(),
            used: Default::default(),
            events: EventColumns::default(),
            copied: Copied::default(),
        };
        fill(&mut importer)?;
        importer.flush()?;
        let copied = importer.copied;
        drop(importer);
        runtime.block_on(tx.commit()).map_err(fail)?;
        Ok(copied)
    }
}

//! The store factory every check takes, and the helpers the checks share.

use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use keysmith::key_format::MintedKey;
use keysmith::lifecycle::{self, Change};
use keysmith::model::NewKey;
use keysmith::model::Timestamp;
use keysmith::store::{
    self, Event, EventFilter, Item, KeyFilter, KeyRecord, Location, OpenMode, Store,
};

/// A moment the checks start from: in the future of any test machine's
/// clock, so nothing a check does depends on the time it runs.
pub const T0: Timestamp = 2_000_000_000;

/// The actor of every change the checks make.
pub const ACTOR: &str = "conformance";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// One check's store location, empty until a store is opened on it: a path
/// in a fresh temporary folder, or a fresh database on the test server
/// (dropped with the `Backend`). Open as many stores on it as a check needs.
pub struct Backend {
    pub kind: Kind,
    location: Location,
    /// The SQLite store's path (SQLite) and room for other files.
    dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
}

impl Backend {
    pub fn sqlite() -> Backend {
        let dir = tempfile::tempdir().expect("a temporary folder");
        Backend {
            kind: Kind::Sqlite,
            location: Location::Sqlite(dir.path().join("keys.db")),
            dir,
            pg: None,
        }
    }

    pub fn postgres() -> Backend {
        let pg = PgDatabase::create();
        let location = Location::parse(&pg.url).expect("the test database's URL");
        Backend {
            kind: Kind::Postgres,
            location,
            dir: tempfile::tempdir().expect("a temporary folder"),
            pg: Some(pg),
        }
    }

    pub fn new(kind: Kind) -> Backend {
        match kind {
            Kind::Sqlite => Backend::sqlite(),
            Kind::Postgres => Backend::postgres(),
        }
    }

    /// Another fresh, empty location of the same kind.
    pub fn another(&self) -> Backend {
        Backend::new(self.kind)
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// A store on this location, created when it is not there yet.
    pub fn open(&self) -> Box<dyn Store> {
        store::open(&self.location, OpenMode::Create)
            .unwrap_or_else(|e| panic!("open the {:?} store: {e}", self.kind))
            .store
    }

    /// A path for other files of the check, in its temporary folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Whether anything of a store exists there: the SQLite file, or a
    /// table in the PostgreSQL database.
    pub fn store_exists(&self) -> bool {
        match &self.location {
            Location::Sqlite(path) => path.exists(),
            Location::Postgres(_) => {
                self.query_i64(
                    "SELECT count(*) FROM information_schema.tables \
                     WHERE table_schema = current_schema()",
                ) > 0
            }
        }
    }

    /// Runs raw SQL (several statements) on the store: the SQLite text on
    /// SQLite, the PostgreSQL text on PostgreSQL.
    pub fn raw_execute(&self, sqlite: &str, postgres: &str) {
        match &self.location {
            Location::Sqlite(path) => self
                .sqlite_connection(path)
                .execute_batch(sqlite)
                .unwrap_or_else(|e| panic!("{sqlite}: {e}")),
            Location::Postgres(_) => self
                .pg_client()
                .batch_execute(postgres)
                .unwrap_or_else(|e| panic!("{postgres}: {e}")),
        }
    }

    /// One integer, read with the same SQL on either backend.
    pub fn query_i64(&self, sql: &str) -> i64 {
        match &self.location {
            Location::Sqlite(path) => self
                .sqlite_connection(path)
                .query_row(sql, [], |row| row.get(0))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Location::Postgres(_) => self
                .pg_client()
                .query_one(sql, &[])
                .and_then(|row| row.try_get(0))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    /// Every value of every table of the store, as text (binary values in
    /// lowercase hex as well as read as text), one line per row.
    pub fn raw_dump(&self) -> String {
        let mut dump = String::new();
        match &self.location {
            Location::Sqlite(path) => {
                use rusqlite::types::ValueRef;
                let conn = self.sqlite_connection(path);
                let tables: Vec<String> = conn
                    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
                    .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                    .expect("the tables");
                for table in tables {
                    let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
                    let columns = stmt.column_count();
                    let mut rows = stmt.query([]).unwrap();
                    while let Some(row) = rows.next().unwrap() {
                        dump.push_str(&table);
                        for i in 0..columns {
                            dump.push(' ');
                            match row.get_ref(i).unwrap() {
                                ValueRef::Null => dump.push_str("NULL"),
                                ValueRef::Integer(n) => dump.push_str(&n.to_string()),
                                ValueRef::Real(x) => dump.push_str(&x.to_string()),
                                ValueRef::Text(t) => dump.push_str(&String::from_utf8_lossy(t)),
                                ValueRef::Blob(b) => {
                                    dump.push_str(&hex(b));
                                    dump.push(' ');
                                    dump.push_str(&String::from_utf8_lossy(b));
                                }
                            }
                        }
                        dump.push('\n');
                    }
                }
            }
            Location::Postgres(_) => {
                let mut client = self.pg_client();
                let tables: Vec<String> = client
                    .query(
                        "SELECT table_name::text FROM information_schema.tables \
                         WHERE table_schema = current_schema()",
                        &[],
                    )
                    .expect("the tables")
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                for table in tables {
                    // A row as text: bytea in hex (`\x...`).
                    let rows = client
                        .query(&format!("SELECT t::text FROM \"{table}\" AS t"), &[])
                        .unwrap_or_else(|e| panic!("dump {table}: {e}"));
                    for row in rows {
                        dump.push_str(&table);
                        dump.push(' ');
                        dump.push_str(row.get::<_, &str>(0));
                        dump.push('\n');
                    }
                    let bytea: Vec<String> = client
                        .query(
                            "SELECT column_name::text FROM information_schema.columns \
                             WHERE table_schema = current_schema() AND table_name = $1 \
                             AND data_type = 'bytea'",
                            &[&table],
                        )
                        .unwrap()
                        .iter()
                        .map(|r| r.get(0))
                        .collect();
                    // And each bytea value read as text too.
                    for column in bytea {
                        for row in client
                            .query(&format!("SELECT \"{column}\" FROM \"{table}\""), &[])
                            .unwrap()
                        {
                            if let Some(bytes) = row.get::<_, Option<&[u8]>>(0) {
                                dump.push_str(&table);
                                dump.push(' ');
                                dump.push_str(&String::from_utf8_lossy(bytes));
                                dump.push('\n');
                            }
                        }
                    }
                }
            }
        }
        dump
    }

    fn sqlite_connection(&self, path: &std::path::Path) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(path).expect("open the SQLite store directly");
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .unwrap();
        conn
    }

    fn pg_client(&self) -> ::postgres::Client {
        let pg = self.pg.as_ref().expect("a PostgreSQL store");
        ::postgres::Client::connect(&pg.url, ::postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to the test database {}: {e}", pg.name))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The superuser URL of the test server.
fn admin_url() -> String {
    std::env::var("KEYSMITH_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
        .expect(
            "this test needs a PostgreSQL server: set KEYSMITH_TEST_POSTGRES \
             (eval \"$(.ci/postgres.sh start)\"; README, Testing on PostgreSQL)",
        )
}

/// A URL fit for a panic message: its password hidden.
fn masked(url: &str) -> String {
    keysmith::redact::mask_password(url)
}

/// One check's database on the test server, made fresh and dropped after.
struct PgDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl PgDatabase {
    fn create() -> PgDatabase {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let admin_url = admin_url();
        let random = RandomState::new().hash_one((std::process::id(), SEQ.fetch_add(1, Relaxed)));
        let name = format!("ks_conformance_{random:016x}");
        let mut admin = ::postgres::Client::connect(&admin_url, ::postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", masked(&admin_url)));
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        // The admin URL names the `postgres` database: swap in this one.
        let (base, query) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
        let (server, _db) = base.rsplit_once('/').expect("a URL with a database name");
        let mut url = format!("{server}/{name}");
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        PgDatabase {
            name,
            url,
            admin_url,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Best effort: a failed check must not also fail to clean up.
        if let Ok(mut admin) = ::postgres::Client::connect(&self.admin_url, ::postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

// ---- helpers shared by the checks ----

pub fn change(at: Timestamp) -> Change<'static> {
    Change { actor: ACTOR, at }
}

/// A key named `name`, with the default prefix and nothing else.
pub fn spec(name: &str) -> NewKey {
    NewKey {
        name: name.into(),
        description: None,
        service: None,
        prefix: "ks".into(),
        expires_in: None,
        limits: Default::default(),
        owner: None,
        meta: None,
    }
}

pub fn spec_for(name: &str, service: &str) -> NewKey {
    NewKey {
        service: Some(service.into()),
        ..spec(name)
    }
}

/// `lifecycle::create`, which must succeed.
pub fn create(store: &mut dyn Store, spec: &NewKey, at: Timestamp) -> (MintedKey, KeyRecord) {
    lifecycle::create(store, spec, change(at)).expect("create a key")
}

pub fn key(store: &mut dyn Store, id: &str) -> KeyRecord {
    store
        .key_by_id(id)
        .expect("key_by_id")
        .unwrap_or_else(|| panic!("key {id} is not in the store"))
}

pub fn events(store: &mut dyn Store, key_id: Option<&str>, limit: Option<u64>) -> Vec<Event> {
    let mut all = Vec::new();
    store
        .events(
            &EventFilter {
                key_id,
                limit,
                ..EventFilter::default()
            },
            &mut |event| {
                all.push(event);
                Ok(())
            },
        )
        .expect("events");
    all
}

/// The actions of `events`, as (action, key id).
pub fn actions(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| (e.action.clone(), e.key_id.clone().expect("a key's event")))
        .collect()
}

pub fn list(store: &mut dyn Store, filter: &KeyFilter) -> Vec<KeyRecord> {
    let mut all = Vec::new();
    store
        .list_keys(filter, &mut |key| {
            all.push(key.clone());
            Ok(())
        })
        .expect("list_keys");
    all
}

pub fn ids(keys: &[KeyRecord]) -> Vec<String> {
    keys.iter().map(|k| k.id.clone()).collect()
}

pub fn all_keys(store: &mut dyn Store) -> Vec<KeyRecord> {
    list(
        store,
        &KeyFilter {
            now: T0,
            ..KeyFilter::default()
        },
    )
}

/// An owned `Item`. Test data, a few at a time: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    Owner(keysmith::store::OwnerRecord),
    Key(KeyRecord),
    Event(Event),
}

/// Everything `export` yields, in its order.
pub fn export(store: &mut dyn Store) -> Vec<Owned> {
    let mut all = Vec::new();
    store
        .export(&mut |item| {
            all.push(match item {
                Item::Owner(owner) => Owned::Owner(owner.clone()),
                Item::Key(key) => Owned::Key(key.clone()),
                Item::Event(event) => Owned::Event(event.clone()),
            });
            Ok(())
        })
        .expect("export");
    all
}

/// The code `verify` gives `presented` at `now`.
pub fn verify_code(store: &mut dyn Store, presented: &str, now: Timestamp) -> keysmith::Code {
    keysmith::verify(store, presented, None, now)
        .expect("verify")
        .code
}

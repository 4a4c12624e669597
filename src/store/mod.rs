//! The storage interface. Only this module and its backends know SQL,
//! files, connections and schemas: `serve` and the commands see a
//! `Location` and the `Store` trait. The interface speaks in keysmith's nouns
//! (`crate::model`): reads, a small transaction interface that the
//! operations in `crate::lifecycle` are written once over, and the bulk paths
//! (batch insert, uses, whole-store copies) that run at the engine's speed.

pub mod backup;
mod postgres;
mod root_keys;
mod sqlite;
mod uses;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result, StoreFault};
pub use crate::model::{
    Credential, Event, KeyEdit, KeyRecord, Limits, OwnerRecord, RateLimit, Retire, Status,
    Timestamp,
};

pub use crate::rate::ledger::{LeaseAnswer, LeaseAsk};
pub use postgres::{PostgresStore, Target as PostgresTarget};
pub use sqlite::SqliteStore;
pub(crate) use sqlite::special_file_kind;
pub use uses::{Spent, UsesLeft};

/// Which keys `list_keys` yields, newest first.
#[derive(Debug, Clone, Default)]
pub struct KeyFilter {
    pub service: Option<String>,
    pub status: Option<Status>,
    pub limit: Option<u64>,
    /// Only keys that expire after `now` and by this instant.
    pub expiring_by: Option<Timestamp>,
    /// Only keys last used (or, never used, created) at or before this instant.
    pub unused_since: Option<Timestamp>,
    /// The instant `status` is judged at.
    pub now: Timestamp,
    pub order: KeyOrder,
    /// Only this owner's keys.
    pub owner: Option<String>,
}

/// The order `list_keys` yields keys in; ties go newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyOrder {
    #[default]
    Newest,
    /// A to Z, ASCII letters of either case together (PostgreSQL compares
    /// by the database's collation).
    Name,
    /// Most recently used first; keys never used last.
    LastUsed,
    /// Soonest expiry first (expired keys lead); keys without one last.
    SoonestExpiry,
}

impl KeyOrder {
    /// The ORDER BY terms, the same in SQLite and PostgreSQL (`k` is the
    /// keys table, `u` its usage).
    fn terms(self) -> &'static str {
        match self {
            KeyOrder::Newest => "k.seq DESC",
            KeyOrder::Name => "lower(k.name), k.seq DESC",
            KeyOrder::LastUsed => "u.last_used_at DESC NULLS LAST, k.seq DESC",
            KeyOrder::SoonestExpiry => "k.expires_at ASC NULLS LAST, k.seq DESC",
        }
    }

    /// `select` (a statement without ORDER BY) in this order, at most
    /// `limit` (its parameter) rows.
    fn sql(self, select: &str, limit: &str) -> String {
        format!("{select} ORDER BY {} LIMIT {limit}", self.terms())
    }
}

impl KeyFilter {
    /// Whether every key passes (a limit aside).
    pub fn is_everything(&self) -> bool {
        self.order == KeyOrder::Newest
            && self.service.is_none()
            && self.status.is_none()
            && self.expiring_by.is_none()
            && self.unused_since.is_none()
            && self.owner.is_none()
    }
}

/// Which events `Store::events` yields, newest first.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventFilter<'a> {
    /// One key's events (also of a deleted key), or everyone's.
    pub key_id: Option<&'a str>,
    /// Without `key_id`: an owner's events, its own and its keys' while
    /// they were its.
    pub owner: Option<&'a str>,
    /// At most this many, counted after the other filters.
    pub limit: Option<u64>,
    /// Only these actions; empty: every action.
    pub actions: &'a [String],
    /// Only events at or after this instant.
    pub since: Option<Timestamp>,
}

impl<'a> EventFilter<'a> {
    /// Every event of one key.
    pub fn of_key(key_id: &'a str) -> Self {
        EventFilter {
            key_id: Some(key_id),
            ..EventFilter::default()
        }
    }
}

/// Where a store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(Box<PostgresTarget>),
}

impl Location {
    /// `--db`/`KEYSMITH_DB` if given, else the platform data directory.
    pub fn resolve(explicit: Option<&str>) -> Result<Self> {
        if let Some(db) = explicit.filter(|s| !s.is_empty()) {
            return Self::parse(db);
        }
        let dirs = directories::ProjectDirs::from("", "", "keysmith").ok_or_else(|| {
            Error::store(
                StoreFault::Unavailable,
                "cannot find a data directory (is HOME set?); pass --db PATH or set KEYSMITH_DB",
            )
        })?;
        Ok(Location::Sqlite(dirs.data_dir().join("keys.db")))
    }

    /// A PostgreSQL URL, or else a SQLite path.
    pub fn parse(location: &str) -> Result<Self> {
        if postgres::is_url(location) {
            return Ok(Location::Postgres(Box::new(PostgresTarget::parse(
                location,
            )?)));
        }
        Ok(Location::Sqlite(PathBuf::from(location)))
    }

    /// The backend's name, as `info` shows it.
    pub fn backend(&self) -> &'static str {
        match self {
            Location::Sqlite(_) => "sqlite",
            Location::Postgres(_) => "postgres",
        }
    }

    /// The location as named in the configuration file in `folder`: a
    /// relative SQLite path is the file's neighbour, wherever the command
    /// runs. A URL is as it is.
    pub fn beside(self, folder: &Path) -> Location {
        match self {
            Location::Sqlite(path) if path.is_relative() => Location::Sqlite(folder.join(path)),
            location => location,
        }
    }

    /// Bounds how long connecting may take, where connecting is a network
    /// round trip (PostgreSQL's `connect_timeout`); opening a file has no
    /// such wait.
    pub fn limit_connect_time(&mut self, limit: std::time::Duration) {
        if let Location::Postgres(target) = self {
            target.connect_timeout = Some(limit);
        }
    }

    /// Whether a read of a few rows and `Store::still_at_location` are
    /// answered on this machine without a network round trip, so that on a
    /// connection without a busy timeout they never wait: SQLite (a `stat`
    /// and a read of one cached page). PostgreSQL's are round trips.
    pub fn checks_never_wait(&self) -> bool {
        matches!(self, Location::Sqlite(_))
    }

    /// The location as it may be shown: a URL's password is masked.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(target) => target.shown.clone(),
        }
    }
}

/// Whether opening may create the store. Only the commands that make a
/// store (`create`, `init`, `migrate`'s target) create; every other one
/// refuses a missing store (`StoreFault::Missing`, docs/src/store.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    Create,
    NoCreate,
}

/// The steps of a change, inside one write transaction (`Store::write`).
/// Each operation of `crate::lifecycle` is written once over these; a backend
/// only says how each is done in its SQL.
pub trait Transaction {
    /// The key with this id, its uses included, locked against other
    /// writers until the transaction ends.
    fn lock_key(&mut self, id: &str) -> Result<Option<KeyRecord>>;
    /// Adds a new key, which has no uses yet; `false`, adding nothing, when
    /// its id is already taken. A transaction that adds a key commits
    /// durably: the key may be shown once it returns.
    fn insert_key(&mut self, key: &KeyRecord) -> Result<bool>;
    /// Writes what a change may alter of a stored key: name, description,
    /// service, `disabled`, `expires_at`, `replaced_by` and its limits.
    fn save_key(&mut self, key: &KeyRecord) -> Result<()>;
    /// Removes a key with its uses; `false` when there was none. Its events stay.
    fn delete_key(&mut self, id: &str) -> Result<bool>;
    fn append_event(&mut self, event: &Event) -> Result<()>;
    /// The owner with this id, locked against other writers until the
    /// transaction ends.
    fn lock_owner(&mut self, id: &str) -> Result<Option<OwnerRecord>>;
    /// Adds an owner, or writes what a change may alter of one: `disabled`
    /// and its limits.
    fn save_owner(&mut self, owner: &OwnerRecord) -> Result<()>;
    /// Removes an owner's record; `false` when there was none. Its keys
    /// and events stay.
    fn delete_owner(&mut self, id: &str) -> Result<bool>;
}

/// Runs `work` in one write transaction of `store`: committed when it
/// returns `Ok`, rolled back when it fails.
pub fn transaction<T>(
    store: &mut dyn Store,
    work: impl FnOnce(&mut dyn Transaction) -> Result<T>,
) -> Result<T> {
    let mut work = Some(work);
    let mut value = None;
    store.write(&mut |tx| {
        let work = work.take().expect("a transaction's work runs once");
        value = Some(work(tx)?);
        Ok(())
    })?;
    Ok(value.expect("the work ran"))
}

/// Adds new keys inside the one transaction `Store::insert_batch` holds open.
pub trait KeyInserter {
    /// Adds `keys`, each with the event at its position in `events`, and
    /// returns the positions of the keys whose id was already taken:
    /// nothing was written for those (mint them again). The ids within one
    /// call are distinct.
    fn insert(&mut self, keys: &[KeyRecord], events: &[Event]) -> Result<Vec<usize>>;
}

/// One item of a whole-store copy. `export` yields every owner, then
/// every key, oldest first, then every event, oldest first.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// An owner with its status and limits.
    Owner(&'a OwnerRecord),
    /// A key with its uses and links.
    Key(&'a KeyRecord),
    Event(&'a Event),
}

/// Adds copied items inside the transaction `Store::import` holds open.
pub trait Importer {
    fn add(&mut self, item: Item<'_>) -> Result<()>;
}

/// The keys of a store by status (`keysmith info`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyCounts {
    pub enabled: u64,
    pub disabled: u64,
    pub expired: u64,
}

impl KeyCounts {
    pub fn total(&self) -> u64 {
        self.enabled + self.disabled + self.expired
    }
}

/// What a copy carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copied {
    pub owners: u64,
    pub keys: u64,
    pub events: u64,
}

/// What every backend provides. A store is `Send`: open one per thread
/// (or keep a pool), and use it from there.
pub trait Store: Send {
    /// Runs `work` in one write transaction, which takes the write lock up
    /// front; commits when it returns `Ok`. See `transaction`.
    fn write(&mut self, work: &mut dyn FnMut(&mut dyn Transaction) -> Result<()>) -> Result<()>;

    /// All or nothing: `fill` adds keys through the inserter inside one
    /// transaction; if it returns `Ok` the transaction commits durably, and
    /// only then does `committed` receive each added key (in no promised
    /// order; the record lent to it may be reused for the next key).
    /// Returns how many keys were added.
    fn insert_batch(
        &mut self,
        fill: &mut dyn FnMut(&mut dyn KeyInserter) -> Result<()>,
        committed: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> Result<u64>;

    fn key_by_id(&mut self, id: &str) -> Result<Option<KeyRecord>>;

    /// The owner with this id, with how many keys it has.
    fn owner(&mut self, id: &str) -> Result<Option<OwnerRecord>>;

    /// Streams every owner, by id, with how many keys each has.
    fn list_owners(&mut self, each: &mut dyn FnMut(&OwnerRecord) -> Result<()>) -> Result<()>;

    /// What verification needs of each key in `ids`, from one consistent
    /// view: `each` gets each id's position and its credential, if stored.
    fn credentials(
        &mut self,
        ids: &[&str],
        each: &mut dyn FnMut(usize, Option<Credential>) -> Result<()>,
    ) -> Result<()>;

    /// Every key with exactly this name, newest first.
    fn keys_by_name(&mut self, name: &str) -> Result<Vec<KeyRecord>>;

    /// Streams the events `filter` picks, newest first.
    fn events(
        &mut self,
        filter: &EventFilter<'_>,
        each: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()>;

    /// The distinct prefixes of the stored keys, sorted.
    fn prefixes(&mut self) -> Result<Vec<String>>;

    /// The distinct services of the stored keys, sorted (keys without one
    /// add nothing).
    fn services(&mut self) -> Result<Vec<String>>;

    /// Records successful verifications, by key id, in one transaction: a
    /// use, not a change, so no event. An id may repeat. A key deleted since
    /// it was verified gets none, and no other key is credited with them.
    fn record_uses(&mut self, ids: &[&str], at: Timestamp) -> Result<()> {
        let counted: Vec<(&str, u64)> = ids.iter().map(|id| (*id, 1)).collect();
        self.record_use_counts(&counted, at)
    }

    /// `record_uses` of each id `count` times, in one transaction: how a
    /// server that counts uses in memory writes them.
    fn record_use_counts(&mut self, uses: &[(&str, u64)], at: Timestamp) -> Result<()>;

    /// Spends uses of keys with remaining uses, or whose owner has them,
    /// in one durable transaction that waits for the keys' and owners'
    /// locks: each entry `(id, cost)`, in order, takes `cost` uses from
    /// the key and its owner when both have that many left, and records
    /// one use of the key (as `record_use_counts`), or else takes nothing
    /// (`UsesLeft::grant`). An id may repeat. The answer for each entry,
    /// in order: `None` when no such key is stored. Exact under any number
    /// of processes: a use is granted once.
    fn spend_uses(&mut self, wanted: &[(&str, u64)], at: Timestamp) -> Result<Vec<Option<Spent>>>;

    /// Leases rate-limit budget (docs/src/fleet-limits.md): for each ask,
    /// in one durable transaction holding its subjects' locks, gives back
    /// its returns and grants what `rate::ledger::plan` decides, timed by
    /// the store's clock. A call whose outcome is unknown counts as taken.
    fn lease(&mut self, asks: &[LeaseAsk]) -> Result<Vec<LeaseAnswer>>;

    /// Streams matching keys to `each`, newest first, stopping at its first
    /// error. The record lent to `each` may be reused for the next row.
    fn list_keys(
        &mut self,
        filter: &KeyFilter,
        each: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> Result<()>;

    /// Streams the whole store (see `Item`) from one consistent snapshot.
    fn export(&mut self, each: &mut dyn FnMut(Item<'_>) -> Result<()>) -> Result<()>;

    /// Fills an empty store in one transaction: `fill` adds items through
    /// the importer, in `export`'s order; nothing is kept unless it returns
    /// `Ok`. A store that already holds keys or history is refused.
    fn import(&mut self, fill: &mut dyn FnMut(&mut dyn Importer) -> Result<()>) -> Result<Copied>;

    /// The schema version of the store, as opened (opening brings an
    /// older store up to this keysmith's).
    fn schema_version(&self) -> i64;

    /// How many keys there are by status at `now`.
    fn key_counts(&mut self, now: Timestamp) -> Result<KeyCounts> {
        let mut counts = KeyCounts::default();
        let filter = KeyFilter {
            now,
            ..KeyFilter::default()
        };
        self.list_keys(&filter, &mut |key| {
            match key.status(now) {
                Status::Enabled => counts.enabled += 1,
                Status::Disabled => counts.disabled += 1,
                Status::Expired => counts.expired += 1,
            }
            Ok(())
        })?;
        Ok(counts)
    }

    /// A number that changes with every committed change of keys, by any
    /// connection of any process on any host, read fresh at each call;
    /// recorded uses and events alone leave it as it is. What a cache of
    /// credentials (`serve`'s) compares to know it is stale. `None` when
    /// the backend cannot tell, and such a cache cannot be trusted.
    fn change_counter(&mut self) -> Result<Option<u64>> {
        Ok(None)
    }

    /// How long each statement waits for another process's lock before it
    /// fails `StoreFault::Busy` (SQLite: 30 s unless set). A backend whose
    /// waits are the server's affair ignores it.
    fn set_busy_timeout(&mut self, _busy: std::time::Duration) -> Result<()> {
        Ok(())
    }

    /// Whether this connection is still on the store now at its location
    /// (`serve` asks at every freshness check). SQLite: whether the file at
    /// the path is the one the connection opened (device and inode, one
    /// `stat`), not one put in its place (a backup restored with `mv`);
    /// an error when there is no file there. A server's store (PostgreSQL)
    /// cannot be swapped under a connection: always true.
    fn still_at_location(&mut self) -> Result<bool> {
        Ok(true)
    }

    /// Copies the store page by page into the new SQLite file `dest`, when
    /// the backend can (SQLite's online backup); `None` when it cannot, and
    /// `backup` copies it key by key instead.
    fn online_backup(&mut self, _dest: &Path) -> Option<Result<()>> {
        None
    }
}

/// Copies every key, its uses, links and history from one store into
/// another, empty one: hashes, never keys, so the copies verify unchanged.
pub fn copy(from: &mut dyn Store, to: &mut dyn Store) -> Result<Copied> {
    to.import(&mut |importer| from.export(&mut |item| importer.add(item)))
}

/// The refusal of a store written by a newer keysmith (schema `version`;
/// this one knows up to `known`), the same from every backend.
fn newer_schema(shown: &str, version: i64, known: i64) -> Error {
    Error::store(
        StoreFault::NewerSchema,
        format!(
            "the store {shown} has schema version {version}, newer than this keysmith understands \
             ({known}); it was left unchanged. Upgrade keysmith"
        ),
    )
}

/// The refusal of a store that is not there, by a command that makes none
/// (docs/src/store.md); the caller adds where the location came from.
fn missing(shown: &str) -> Error {
    Error::store(
        StoreFault::Missing,
        format!("there is no keysmith store at {shown}"),
    )
}

/// The refusal of `import` into a store that is not empty.
fn occupied(shown: &str) -> Error {
    Error::Usage(format!(
        "{shown} already holds keys or history; copies go into an empty store only, \
         so nothing was copied"
    ))
}

/// A store just opened, and what opening it found worth telling (a store
/// others can read, an ignored password file). The store never prints:
/// showing these is the caller's choice.
pub struct Opened {
    pub store: Box<dyn Store>,
    pub warnings: Vec<String>,
    /// What was at a SQLite store's path before it was opened.
    pub presence: Presence,
}

/// Whether opening found a store or made one (on PostgreSQL: keysmith's
/// schema in the database the URL names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Found,
    /// Nothing was there, or a blank file: this command made the store.
    Created,
}

impl Presence {
    /// What is at `path` now, for a store about to be opened with `mode`:
    /// nothing (or a blank file) is about to be created.
    fn before(path: &std::path::Path, mode: OpenMode) -> Presence {
        match std::fs::metadata(path) {
            Ok(meta) if meta.len() > 0 || !meta.is_file() => Presence::Found,
            _ if mode == OpenMode::Create => Presence::Created,
            // Opening fails: a missing store is refused.
            _ => Presence::Found,
        }
    }
}

/// What a command that makes a store (`migrate`'s target) may take back
/// when it fails: taken before opening with `OpenMode::Create`.
pub struct Creation {
    /// A SQLite path where there was no file: the store file and those
    /// SQLite puts beside it are removed. A PostgreSQL database, which this
    /// command did not make, is left as it is.
    new_file: Option<PathBuf>,
}

impl Creation {
    pub fn before_opening(location: &Location) -> Creation {
        Creation {
            new_file: match location {
                Location::Sqlite(path) if !path.exists() => Some(path.clone()),
                _ => None,
            },
        }
    }

    /// Removes what this command made at the location, if anything.
    pub fn undo(self) {
        if let Some(path) = self.new_file {
            backup::remove_sqlite_files(&path);
        }
    }
}

/// Opens the store at `location`, creating it when `mode` allows.
pub fn open(location: &Location, mode: OpenMode) -> Result<Opened> {
    match location {
        Location::Sqlite(path) => {
            let presence = Presence::before(path, mode);
            let mut store = SqliteStore::open(path, mode)?;
            let warnings = store.take_warnings();
            Ok(Opened {
                store: Box::new(store),
                warnings,
                presence,
            })
        }
        Location::Postgres(target) => {
            let (store, created, migrated) = postgres::open(target, mode)?;
            Ok(Opened {
                store,
                warnings: target.warnings.iter().cloned().chain(migrated).collect(),
                presence: if created {
                    Presence::Created
                } else {
                    Presence::Found
                },
            })
        }
    }
}

/// `open`, with SQLite statements waiting at most `busy` for another
/// process's lock (see `SqliteStore::open_with_busy_timeout`).
pub fn open_with_busy_timeout(
    location: &Location,
    mode: OpenMode,
    busy: std::time::Duration,
) -> Result<Opened> {
    match location {
        Location::Sqlite(path) => {
            let presence = Presence::before(path, mode);
            let mut store = SqliteStore::open_with_busy_timeout(path, mode, busy)?;
            let warnings = store.take_warnings();
            Ok(Opened {
                store: Box::new(store),
                warnings,
                presence,
            })
        }
        Location::Postgres(_) => open(location, mode),
    }
}

/// Opens a SQLite store by path: the in-process entry point for applications.
pub fn open_path(path: &Path) -> Result<SqliteStore> {
    SqliteStore::open(path, OpenMode::Create)
}

//! The storage interface. Only this module and its backends know SQL, a
//! connection or the schema; the interface speaks in keysmith's nouns, and
//! every method that changes something is one transaction.

mod postgres;
mod sqlite;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::key::KeyHash;

pub use postgres::{PostgresStore, Target as PostgresTarget, mask_password, mask_passwords_in};
pub use sqlite::SqliteStore;
pub(crate) use sqlite::special_file_kind;

/// Seconds since the Unix epoch, UTC.
pub type Timestamp = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Enabled,
    Disabled,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Enabled => "enabled",
            Status::Disabled => "disabled",
            Status::Expired => "expired",
        }
    }
}

/// A stored key: everything but the secret, which is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: String,
    pub hash: KeyHash,
    pub prefix: String,
    pub name: String,
    pub description: Option<String>,
    pub service: Option<String>,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub use_count: i64,
    pub rotated_from: Option<String>,
    pub replaced_by: Option<String>,
    /// The store's number for this row, in creation order; 0 until stored.
    pub seq: i64,
}

impl KeyRecord {
    /// `disabled` when switched off, else `expired` from the instant
    /// `expires_at` is reached, else `enabled` (SPEC §5).
    pub fn status(&self, now: Timestamp) -> Status {
        if self.disabled {
            Status::Disabled
        } else if self.expires_at.is_some_and(|at| now >= at) {
            Status::Expired
        } else {
            Status::Enabled
        }
    }

    pub fn masked(&self) -> String {
        crate::key::masked(&self.prefix, &self.id)
    }

    /// Links this key to its replacement and retires it as `retire` says.
    pub fn retire(&mut self, retire: Retire, replacement: &str) {
        match retire {
            Retire::Now => self.disabled = true,
            Retire::At(at) => self.expires_at = Some(self.expires_at.map_or(at, |e| e.min(at))),
        }
        self.replaced_by = Some(replacement.to_owned());
    }
}

/// One entry of a store's history: what happened, when, to which key, by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: Timestamp,
    pub action: String,
    pub key_id: String,
    pub actor: String,
    pub detail: Option<String>,
}

/// The fields `edit` may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyEdit {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub service: Option<String>,
    pub expires_at: Option<Option<Timestamp>>,
}

impl KeyEdit {
    /// The key as it is after this edit.
    pub fn applied_to(&self, before: &KeyRecord) -> KeyRecord {
        let mut after = before.clone();
        if let Some(name) = &self.name {
            after.name = name.clone();
        }
        if let Some(description) = &self.description {
            after.description = description.clone();
        }
        if let Some(service) = &self.service {
            after.service = Some(service.clone());
        }
        if let Some(expires_at) = self.expires_at {
            after.expires_at = expires_at;
        }
        after
    }
}

/// How a rotated key is retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retire {
    /// Disabled in the same transaction that creates its replacement.
    Now,
    /// Left valid until this instant (or its own earlier expiry).
    At(Timestamp),
}

/// What `rotate_key` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// Done: the old key as it was just before, and as retired.
    Rotated {
        before: Box<KeyRecord>,
        retired: Box<KeyRecord>,
    },
    NoSuchKey,
    /// The key already has this replacement; nothing changed.
    AlreadyReplaced(String),
    /// The replacement's id is taken; nothing changed, mint another.
    IdTaken,
}

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
}

impl KeyFilter {
    /// Whether every key passes (a limit aside).
    pub fn is_everything(&self) -> bool {
        self.service.is_none()
            && self.status.is_none()
            && self.expiring_by.is_none()
            && self.unused_since.is_none()
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
            Error::Store(
                "cannot find a data directory (is HOME set?); pass --db PATH or set KEYSMITH_DB"
                    .into(),
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

    /// The location as it may be shown: a URL's password is masked.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(target) => target.shown.clone(),
        }
    }
}

/// Whether opening may create the store. Commands that only read treat a
/// missing store as an empty one instead of leaving a file behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    Create,
    NoCreate,
}

/// Adds keys inside a write transaction that `Store::insert_batch` holds open.
pub trait KeyInserter {
    /// Adds a key and its event; `false`, writing nothing, when the id is taken.
    fn insert(&mut self, key: &KeyRecord, event: &Event) -> Result<bool>;
}

/// One item of a whole-store copy. `export` yields every key, oldest
/// first, then every event, oldest first.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// A key with its uses and links.
    Key(&'a KeyRecord),
    Event(&'a Event),
}

/// Adds copied items inside the transaction `Store::import` holds open.
pub trait Importer {
    fn add(&mut self, item: Item<'_>) -> Result<()>;
}

/// What a copy carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copied {
    pub keys: u64,
    pub events: u64,
}

/// The operations every backend provides.
pub trait Store {
    /// Adds a key and its `create` event in one durable transaction.
    /// Returns `false`, changing nothing, when the id is already taken.
    fn insert_key(&mut self, key: &KeyRecord, event: &Event) -> Result<bool>;

    /// All or nothing: `fill` adds keys through the inserter inside one
    /// transaction; if it returns `Ok` the transaction commits durably, and
    /// only then does `committed` receive each added key, in the order added
    /// (the record lent to it may be reused for the next key).
    /// Returns how many keys were added.
    fn insert_batch(
        &mut self,
        fill: &mut dyn FnMut(&mut dyn KeyInserter) -> Result<()>,
        committed: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> Result<u64>;

    fn key_by_id(&mut self, id: &str) -> Result<Option<KeyRecord>>;

    /// Looks up many ids in one read transaction (one consistent view, one
    /// lock taken); `each` gets each id's position and its key, if stored.
    /// For verification, which reads no uses: a backend may leave a key's
    /// `last_used_at` and `use_count` out (`None` and 0) to save a search.
    fn keys_by_ids(
        &mut self,
        ids: &[&str],
        each: &mut dyn FnMut(usize, Option<KeyRecord>) -> Result<()>,
    ) -> Result<()>;

    /// Every key with exactly this name, newest first.
    fn keys_by_name(&mut self, name: &str) -> Result<Vec<KeyRecord>>;

    /// Sets a key's disabled flag and, if that changed it, records `event`.
    /// Returns the key as it is afterwards and whether it changed.
    fn set_disabled(
        &mut self,
        id: &str,
        disabled: bool,
        event: &Event,
    ) -> Result<Option<(KeyRecord, bool)>>;

    /// Applies `edit` and records `event`, if that changes anything.
    /// Returns the key as it is afterwards and whether it changed.
    fn update_key(
        &mut self,
        id: &str,
        edit: &KeyEdit,
        event: &Event,
    ) -> Result<Option<(KeyRecord, bool)>>;

    /// In one transaction: checks the old key has no replacement yet, inserts
    /// `new` (whose `rotated_from` names the old key), links the old key to
    /// it, retires the old key and records `events`.
    fn rotate_key(
        &mut self,
        old_id: &str,
        new: &KeyRecord,
        retire: Retire,
        events: &[Event],
    ) -> Result<Rotation>;

    /// Takes back keys that nobody received because their output failed
    /// (SPEC §2), in one transaction: removes each key of `ids` with its
    /// uses, recording `removed` for each (its `key_id` set to the key's),
    /// and for a rotation gives the old key `restore.0` back the `disabled`,
    /// `expires_at` and `replaced_by` it had before, recording `restore.1`.
    /// Returns how many keys were removed.
    fn undo_delivery(
        &mut self,
        ids: &[&str],
        removed: &Event,
        restore: Option<(&KeyRecord, &Event)>,
    ) -> Result<u64>;

    /// Removes a key for good and records `event`; its history stays.
    fn delete_key(&mut self, id: &str, event: &Event) -> Result<Option<KeyRecord>>;

    /// Streams events, newest first: all of them, or one key's.
    fn events(
        &mut self,
        key_id: Option<&str>,
        limit: Option<u64>,
        each: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()>;

    /// The distinct prefixes of the stored keys, sorted.
    fn prefixes(&mut self) -> Result<Vec<String>>;

    /// Records one successful verification of the key with this id: a use,
    /// not a change, so no event. A key deleted since it was verified gets
    /// none, and no other key is credited with it.
    fn record_use(&mut self, id: &str, at: Timestamp) -> Result<()>;

    /// Writes a consistent copy of the whole store to `dest`, a new file,
    /// while other processes keep using the store.
    fn backup_to(&mut self, dest: &Path) -> Result<()>;

    /// Records many verifications in one transaction, by key id; an id may
    /// repeat. As `record_use`, ids no longer stored are passed over.
    fn record_uses(&mut self, ids: &[&str], at: Timestamp) -> Result<()>;

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
}

/// Copies every key, its uses, links and history from one store into
/// another, empty one: hashes, never keys, so the copies verify unchanged.
pub fn copy(from: &mut dyn Store, to: &mut dyn Store) -> Result<Copied> {
    to.import(&mut |importer| from.export(&mut |item| importer.add(item)))
}

/// The refusal of `import` into a store that is not empty.
fn occupied(shown: &str) -> Error {
    Error::Usage(format!(
        "{shown} already holds keys or history; copies go into an empty store only, \
         so nothing was copied"
    ))
}

/// Opens the store at `location`, creating it when `mode` allows.
pub fn open(location: &Location, mode: OpenMode) -> Result<Box<dyn Store>> {
    match location {
        Location::Sqlite(path) => Ok(Box::new(SqliteStore::open(path, mode)?)),
        Location::Postgres(target) => postgres::open(target, mode),
    }
}

/// Opens a SQLite store by path: the in-process entry point for applications.
pub fn open_path(path: &Path) -> Result<SqliteStore> {
    SqliteStore::open(path, OpenMode::Create)
}

//! The embedded SQLite backend: the schema, its migrations and every SQL
//! statement for a store kept in one local file.

use std::fs::{self, OpenOptions};
use std::io::ErrorKind;
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Row, Statement, TransactionBehavior,
    params,
};

use super::{
    Copied, Credential, Event, EventFilter, Importer, Item, KeyFilter, KeyInserter, KeyRecord,
    Limits, OpenMode, RateLimit, Spent, Status, Store, Timestamp, Transaction,
};
use crate::error::{Error, Result, StoreFault};
use crate::key::KeyHash;

mod probe;

use probe::Found;
pub(crate) use probe::special as special_file_kind;

/// Stamped into the file header (`PRAGMA application_id`) so a keysmith store
/// is told apart from any other SQLite file: "KSMT".
const APPLICATION_ID: i64 = 0x4B53_4D54;

/// Append-only: step N turns a version-N store into version N+1. The schema
/// version a store carries (`PRAGMA user_version`) is the number of steps applied.
const MIGRATIONS: &[&str] = &[
    // Version 1. Times are Unix seconds (UTC). `seq` orders keys newest first.
    "CREATE TABLE keys (
        seq          INTEGER PRIMARY KEY,
        id           TEXT    NOT NULL UNIQUE,
        hash         BLOB    NOT NULL,
        prefix       TEXT    NOT NULL,
        name         TEXT    NOT NULL,
        description  TEXT,
        service      TEXT,
        disabled     INTEGER NOT NULL DEFAULT 0,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER,
        last_used_at INTEGER,
        use_count    INTEGER NOT NULL DEFAULT 0,
        rotated_from TEXT,
        replaced_by  TEXT
    ) STRICT;
    CREATE TABLE events (
        seq    INTEGER PRIMARY KEY,
        at     INTEGER NOT NULL,
        action TEXT    NOT NULL,
        key_id TEXT    NOT NULL,
        actor  TEXT    NOT NULL,
        detail TEXT
    ) STRICT;
    CREATE INDEX events_by_key ON events (key_id);",
    // Version 2. Events find their key by its `seq`: bulk creation appends to
    // this index, where an index on the random id cost a B-tree search per
    // key. Events of deleted keys (no `seq`) are found by `key_id`.
    "ALTER TABLE events ADD COLUMN key_seq INTEGER;
    UPDATE events SET key_seq = (SELECT seq FROM keys WHERE keys.id = events.key_id);
    DROP INDEX events_by_key;
    CREATE INDEX events_by_key_seq ON events (key_seq);",
    // Version 3. Uses live in a narrow table of their own, keyed by the key's
    // `seq`: recording a use rewrites a few bytes on a page of used keys
    // instead of a page of whole key rows, and batches write in `seq` order.
    "CREATE TABLE usage (
        seq          INTEGER PRIMARY KEY,
        last_used_at INTEGER NOT NULL,
        use_count    INTEGER NOT NULL
    ) STRICT;
    INSERT INTO usage (seq, last_used_at, use_count)
        SELECT seq, coalesce(last_used_at, created_at), use_count FROM keys
        WHERE use_count > 0 OR last_used_at IS NOT NULL;
    ALTER TABLE keys DROP COLUMN last_used_at;
    ALTER TABLE keys DROP COLUMN use_count;",
    // Version 4. A counter every change of keys adds one to, in the same
    // transaction (uses do not): `serve` reads it to know when what it
    // holds of the keys is stale, without being told of every use.
    "CREATE TABLE key_changes (n INTEGER NOT NULL) STRICT;
    INSERT INTO key_changes (n) VALUES (0);",
    // Version 5. What a key may do (docs/src/limits.md): its scopes (space-separated),
    // the VALID verifications it has left and its rate limit; NULL for none.
    "ALTER TABLE keys ADD COLUMN scopes TEXT;
    ALTER TABLE keys ADD COLUMN remaining_uses INTEGER;
    ALTER TABLE keys ADD COLUMN rate_limit INTEGER;
    ALTER TABLE keys ADD COLUMN rate_per INTEGER;",
];

const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The schema MIGRATIONS arrive at, created at once in a new store (running
/// every step costs a new store tens of milliseconds). A test keeps the two equal.
const CURRENT_SCHEMA: &str = "CREATE TABLE keys (
        seq          INTEGER PRIMARY KEY,
        id           TEXT    NOT NULL UNIQUE,
        hash         BLOB    NOT NULL,
        prefix       TEXT    NOT NULL,
        name         TEXT    NOT NULL,
        description  TEXT,
        service      TEXT,
        disabled     INTEGER NOT NULL DEFAULT 0,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER,
        rotated_from TEXT,
        replaced_by  TEXT,
        scopes         TEXT,
        remaining_uses INTEGER,
        rate_limit     INTEGER,
        rate_per       INTEGER
    ) STRICT;
    CREATE TABLE events (
        seq     INTEGER PRIMARY KEY,
        at      INTEGER NOT NULL,
        action  TEXT    NOT NULL,
        key_id  TEXT    NOT NULL,
        actor   TEXT    NOT NULL,
        detail  TEXT,
        key_seq INTEGER
    ) STRICT;
    CREATE INDEX events_by_key_seq ON events (key_seq);
    CREATE TABLE usage (
        seq          INTEGER PRIMARY KEY,
        last_used_at INTEGER NOT NULL,
        use_count    INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE key_changes (n INTEGER NOT NULL) STRICT;
    INSERT INTO key_changes (n) VALUES (0);";

/// Long enough to ride out a burst of writers, short enough not to look hung.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a blank file beside a rollback journal is watched for the
/// change under way to finish, before it is refused.
const JOURNAL_WAIT: Duration = Duration::from_secs(2);

/// Page cache for bulk writes, in KiB (SQLite reads a negative size as KiB).
const BULK_CACHE_KIB: i64 = -65_536;

/// The columns `key_from_row` reads, in its order. A macro so that whole
/// statements are string constants, built at compile time.
macro_rules! key_columns {
    () => {
        "SELECT k.id, k.hash, k.prefix, k.name, k.description, k.service, k.disabled, \
         k.created_at, k.expires_at, "
    };
}

/// One key by id, its uses by subqueries: with a LEFT JOIN SQLite would
/// re-prepare the statement at every new binding, costing more than the lookup.
const SELECT_KEY_BY_ID: &str = concat!(
    key_columns!(),
    "(SELECT last_used_at FROM usage WHERE seq = k.seq), \
     coalesce((SELECT use_count FROM usage WHERE seq = k.seq), 0), \
     k.rotated_from, k.replaced_by, k.seq, k.scopes, k.remaining_uses, k.rate_limit, \
     k.rate_per FROM keys AS k WHERE k.id = ?1"
);

/// What verification reads of a key (see `Store::credentials`).
const SELECT_CREDENTIAL: &str = "SELECT id, hash, name, service, disabled, expires_at, scopes, \
     remaining_uses, rate_limit, rate_per FROM keys WHERE id = ?1";

/// The rest of every `events` query: parameters 4 (since) and 5 (a JSON
/// array of actions), newest first, at most parameter 2.
macro_rules! event_filters {
    () => {
        " AND (?4 IS NULL OR at >= ?4) \
          AND (?5 IS NULL OR action IN (SELECT value FROM json_each(?5))) \
          ORDER BY seq DESC LIMIT ?2"
    };
}

/// Many keys, their uses by one join lookup each (prepared once per run).
macro_rules! select_keys {
    () => {
        concat!(
            key_columns!(),
            "u.last_used_at, coalesce(u.use_count, 0), k.rotated_from, k.replaced_by, k.seq, \
             k.scopes, k.remaining_uses, k.rate_limit, k.rate_per \
             FROM keys AS k LEFT JOIN usage AS u ON u.seq = k.seq "
        )
    };
}

const SELECT_ALL_KEYS: &str = concat!(select_keys!(), "ORDER BY k.seq");
const SELECT_KEYS_BY_NAME: &str = concat!(select_keys!(), "WHERE k.name = ?1 ORDER BY k.seq DESC");
/// Keys a batch has just added, read back after its commit: no key of
/// theirs can have been used yet (none was shown), so no uses are looked up.
const SELECT_NEW_KEYS_IN_RANGE: &str = concat!(
    key_columns!(),
    "NULL, 0, k.rotated_from, k.replaced_by, k.seq, k.scopes, k.remaining_uses, k.rate_limit, \
     k.rate_per FROM keys AS k \
     WHERE k.seq BETWEEN ?1 AND ?2 ORDER BY k.seq"
);
/// Every key newest first, without its uses: `list_keys` merges those in
/// from `SELECT_USAGE_NEWEST` (a join would search `usage` once per row).
const SELECT_KEYS_NEWEST: &str = concat!(
    key_columns!(),
    "NULL, 0, k.rotated_from, k.replaced_by, k.seq, k.scopes, k.remaining_uses, k.rate_limit, \
     k.rate_per FROM keys AS k ORDER BY k.seq DESC LIMIT ?1"
);
const SELECT_USAGE_NEWEST: &str =
    "SELECT seq, last_used_at, use_count FROM usage ORDER BY seq DESC";
const SELECT_KEYS_FILTERED: &str = concat!(
    select_keys!(),
    "WHERE (?1 IS NULL OR k.service = ?1)
       AND (?2 IS NULL
            OR (?2 = 'disabled' AND k.disabled = 1)
            OR (?2 = 'expired' AND k.disabled = 0 AND k.expires_at <= ?3)
            OR (?2 = 'enabled' AND k.disabled = 0 AND (k.expires_at IS NULL OR k.expires_at > ?3)))
       AND (?5 IS NULL OR (k.expires_at > ?3 AND k.expires_at <= ?5))
       AND (?6 IS NULL OR coalesce(u.last_used_at, k.created_at) <= ?6)"
);
/// A new key has no uses: its `usage` row appears with the first one.
const INSERT_KEY: &str = "INSERT INTO keys (id, hash, prefix, name, description, service, disabled, \
     created_at, expires_at, rotated_from, replaced_by, scopes, remaining_uses, rate_limit, \
     rate_per) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
     ON CONFLICT (id) DO NOTHING";
/// Uses are found by the key's id, never by a row number a caller kept:
/// SQLite gives a deleted key's `seq` to the next key (no AUTOINCREMENT), so
/// a number read before a `delete` could credit another key. The latest use
/// wins: batches from several processes arrive in any order.
const RECORD_USE_BY_ID: &str = "INSERT INTO usage (seq, last_used_at, use_count) \
     SELECT seq, ?2, ?3 FROM keys WHERE id = ?1 \
     ON CONFLICT (seq) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at), \
     use_count = use_count + excluded.use_count";
/// `RECORD_USE_BY_ID` for a JSON array of ids, in one statement: the loop
/// runs inside SQLite instead of one bind, step and reset per use, and the
/// rows are written in `seq` order. An id that repeats counts each time.
/// (`WHERE true` tells the parser that ON CONFLICT belongs to the INSERT.)
const RECORD_USES_BY_ID: &str = "INSERT INTO usage (seq, last_used_at, use_count) \
     SELECT k.seq, ?2, count(*) FROM json_each(?1) AS j JOIN keys AS k ON k.id = j.value \
     WHERE true GROUP BY k.seq ORDER BY k.seq \
     ON CONFLICT (seq) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at), \
     use_count = use_count + excluded.use_count";
/// The same for a JSON array of `[id, count]` pairs (twice the work per
/// entry: for counts other than one).
const RECORD_USE_COUNTS_BY_ID: &str = "INSERT INTO usage (seq, last_used_at, use_count) \
     SELECT k.seq, ?2, sum(j.value ->> 1) FROM json_each(?1) AS j \
     JOIN keys AS k ON k.id = j.value ->> 0 \
     WHERE true GROUP BY k.seq ORDER BY k.seq \
     ON CONFLICT (seq) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at), \
     use_count = use_count + excluded.use_count";
/// Run by every transaction that may change keys (see migration 4).
const COUNT_CHANGE: &str = "UPDATE key_changes SET n = n + 1";
const INSERT_USAGE: &str = "INSERT INTO usage (seq, last_used_at, use_count) VALUES (?1, ?2, ?3)";
/// The key's `seq` is looked up, except in bulk, where it is known.
const INSERT_EVENT: &str = "INSERT INTO events (at, action, key_id, actor, detail, key_seq) \
     VALUES (?1, ?2, ?3, ?4, ?5, (SELECT seq FROM keys WHERE id = ?3))";
const INSERT_EVENT_WITH_SEQ: &str = "INSERT INTO events (at, action, key_id, actor, detail, key_seq) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

pub struct SqliteStore {
    conn: Connection,
    /// The path as shown in messages.
    shown: String,
    /// What opening found worth telling; the store never prints them.
    warnings: Vec<String>,
    /// How long a statement waits for another process's lock.
    busy: Duration,
}

impl SqliteStore {
    /// Opens (and, with `OpenMode::Create`, creates) the store at `path`. A file
    /// that is not a keysmith store, or has a newer schema, is refused untouched.
    pub fn open(path: &Path, mode: OpenMode) -> Result<Self> {
        Self::open_with_busy_timeout(path, mode, BUSY_TIMEOUT)
    }

    /// `open`, waiting at most `busy` for another process's lock, in opening
    /// and in every later statement (`open` waits 30 s; `serve` a second,
    /// and answers 503 rather than keep a request waiting).
    pub fn open_with_busy_timeout(path: &Path, mode: OpenMode, busy: Duration) -> Result<Self> {
        let shown = path.display().to_string();
        let mut created = false;
        let (exposed, found) = loop {
            match examine(path, &shown)? {
                None if created => {
                    return Err(Error::store(
                        StoreFault::Unavailable,
                        format!("cannot create the store {shown}: it was removed as it was made"),
                    ));
                }
                None => match mode {
                    OpenMode::NoCreate => return Err(super::missing(&shown)),
                    OpenMode::Create => {
                        create_private_file(path, &shown)?;
                        // Judged like any file: another process may have
                        // put something else there first.
                        created = true;
                    }
                },
                // A command that makes no store never writes to a file it
                // did not create: a blank one is no store yet.
                Some((Found::Blank, _)) if mode == OpenMode::NoCreate => {
                    return Err(super::missing(&format!("{shown}, only a blank file")));
                }
                Some((found, meta)) => break (readable_by_others(&meta), found),
            }
        };
        // A current store in WAL mode with nothing in its -wal (the common
        // case, after keysmith's own clean close): its header, read by the
        // probe, is the whole truth, and asking SQLite again costs two
        // statements to prepare on every command.
        let settled = matches!(found, Found::Keysmith { version, wal: true } if version == SCHEMA_VERSION)
            // (Through a symlink, SQLite names the -wal after the target.)
            && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
            && fs::metadata(crate::store::backup::with_suffix(path, "-wal"))
                .map_or(true, |m| m.len() == 0);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| failure(&shown, &e))?;
        // Before anything else: even reading the header may wait on a writer.
        conn.busy_timeout(busy).map_err(|e| failure(&shown, &e))?;
        let mut store = SqliteStore {
            conn,
            shown,
            warnings: Vec::new(),
            busy,
        };
        // Processes opening a new store at once race to create its schema
        // and switch it to WAL; SQLite answers some of those lock upgrades
        // "busy" at once instead of waiting, so opening retries on its own.
        let deadline = Instant::now() + busy;
        loop {
            match store.prepare(settled) {
                Err(e)
                    if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                prepared => {
                    prepared.map_err(|e| store.fail(&e))??;
                    break;
                }
            }
        }
        if exposed {
            store.warnings.push(format!(
                "the store {} can be read by other users; fix it with: chmod 600 {}",
                store.shown,
                shell_word(&store.shown)
            ));
        }
        Ok(store)
    }

    /// How long each later statement waits for another process's lock.
    pub fn set_busy(&mut self, busy: Duration) -> Result<()> {
        self.conn
            .busy_timeout(busy)
            .map_err(|e| failure(&self.shown, &e))?;
        self.busy = busy;
        Ok(())
    }

    /// What opening found worth telling (a store others can read), once.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn fail(&self, e: &rusqlite::Error) -> Error {
        failure(&self.shown, e)
    }

    /// Validates the header and brings the schema up to date. The common case,
    /// a current store, costs one read of two header fields; a `settled` one
    /// (see `open`), none.
    fn prepare(&mut self, settled: bool) -> rusqlite::Result<Result<()>> {
        if settled {
            return self.durable_commits().map(Ok);
        }
        let (app_id, version) = self.header()?;
        if app_id == APPLICATION_ID && version == SCHEMA_VERSION {
            return self.finish_open().map(Ok);
        }
        if app_id == APPLICATION_ID && version > SCHEMA_VERSION {
            return Ok(Err(newer_schema(&self.shown, version)));
        }
        // Blank, foreign, or being created by another process right now:
        // `initialise` tells them apart under the lock.
        if let Err(message) = self.initialise()? {
            return Ok(Err(message));
        }
        self.finish_open().map(Ok)
    }

    fn header(&self) -> rusqlite::Result<(i64, i64)> {
        self.conn.query_row(
            "SELECT application_id, user_version FROM pragma_application_id(), pragma_user_version()",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    }

    /// Creates or migrates the schema under an exclusive lock, re-checking
    /// inside it: another process may have done the work meanwhile.
    fn initialise(&mut self) -> rusqlite::Result<Result<()>> {
        let shown = self.shown.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)?;
        let (app_id, version): (i64, i64) = tx.query_row(
            "SELECT application_id, user_version FROM pragma_application_id(), pragma_user_version()",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
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
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(Ok(()))
    }

    fn finish_open(&mut self) -> rusqlite::Result<()> {
        // WAL lets readers and one writer work at once. The mode is stored in
        // the file, so this is a no-op after the first open.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            self.conn
                .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        }
        self.conn.busy_timeout(self.busy)?;
        self.durable_commits()
    }

    /// Every commit reaches the disk before keysmith reports it: a key that
    /// was printed is never lost.
    fn durable_commits(&self) -> rusqlite::Result<()> {
        self.conn.pragma_update(None, "synchronous", "FULL")
    }
}

/// What is at `path`, decided from the file's bytes before SQLite opens it,
/// since opening a file changes it (see `probe`): nothing (`None`), a blank
/// file or a keysmith store. Anything else is the error that refuses it,
/// and only those two are ever opened.
fn examine(path: &Path, shown: &str) -> Result<Option<(Found, fs::Metadata)>> {
    let cannot_read = |e: std::io::Error| {
        Error::store(
            StoreFault::Unavailable,
            format!("cannot read the store {shown}: {e}"),
        )
    };
    // A journal beside a blank file is most often another keysmith process
    // making it a store: a moment, then its header says so.
    let deadline = Instant::now() + JOURNAL_WAIT;
    let (found, meta) = loop {
        let meta = match fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(cannot_read(e)),
        };
        match probe::probe(path, &meta, APPLICATION_ID as u32).map_err(cannot_read)? {
            Found::Journal if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            found => break (found, meta),
        }
    };
    match found {
        Found::Journal => Err(Error::store(
            StoreFault::Busy,
            format!(
                "{shown} is not a keysmith store: another program is changing it, or was stopped \
             while it did (its -journal is still there); it was left unchanged. Point --db at \
             a keysmith store or a new path"
            ),
        )),
        Found::Special(kind) => Err(Error::store(
            StoreFault::Foreign,
            format!(
                "{shown} is a {kind}, not a keysmith store: a store is a regular file; \
             point --db at one, or at a path that does not exist yet"
            ),
        )),
        Found::Foreign => Err(not_a_store(shown)),
        Found::Keysmith { version, .. } if version > SCHEMA_VERSION => {
            Err(newer_schema(shown, version))
        }
        // No keysmith ever wrote one: a damaged header.
        Found::Keysmith { version, .. } if version < 0 => Err(not_a_store(shown)),
        found => Ok(Some((found, meta))),
    }
}

fn not_a_store(shown: &str) -> Error {
    Error::store(
        StoreFault::Foreign,
        format!(
            "{shown} is not a keysmith store (or its header is damaged: restore it from a backup); \
         it was left unchanged. Point --db at a keysmith store or a new path"
        ),
    )
}

fn newer_schema(shown: &str, version: i64) -> Error {
    super::newer_schema(shown, version, SCHEMA_VERSION)
}

/// Creates the store file 0600 (and any missing folders 0700) before SQLite
/// opens it, so no other user can ever read it.
fn create_private_file(path: &Path, shown: &str) -> Result<()> {
    let cannot = |e: std::io::Error| {
        Error::store(
            StoreFault::Unavailable,
            format!("cannot create the store {shown}: {e}"),
        )
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(0o700);
        builder.create(parent).map_err(cannot)?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another keysmith process created it first: theirs is as good.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(cannot(e)),
    }
}

/// `path` as one word for a POSIX shell: in single quotes, each `'` written
/// `'\''`; a leading `-` behind `./`, so that it is not read as an option.
pub(crate) fn shell_word(path: &str) -> String {
    let path = if path.starts_with('-') {
        format!("./{path}")
    } else {
        path.to_owned()
    };
    format!("'{}'", path.replace('\'', r"'\''"))
}

#[cfg(unix)]
fn readable_by_others(meta: &fs::Metadata) -> bool {
    meta.mode() & 0o044 != 0
}

#[cfg(not(unix))]
fn readable_by_others(_meta: &fs::Metadata) -> bool {
    false
}

/// Turns a SQLite failure into a message for people: what is wrong with the
/// store and what to do, never SQL text.
fn failure(shown: &str, e: &rusqlite::Error) -> Error {
    let code = e.sqlite_error_code();
    let fault = match code {
        Some(ErrorCode::NotADatabase) => return not_a_store(shown),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreFault::Busy,
        Some(
            ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure,
        ) => StoreFault::Unavailable,
        _ => StoreFault::Damaged,
    };
    let message = match code {
        Some(ErrorCode::DatabaseCorrupt) => format!(
            "the store {shown} is damaged; restore it from a backup (keysmith backup makes one)"
        ),
        Some(ErrorCode::ReadOnly) => {
            format!("the store {shown} is read-only for this user; check its permissions")
        }
        Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied) => {
            format!("cannot open the store {shown}; check the path and its permissions")
        }
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            format!("the store {shown} stayed busy; another process holds it, try again")
        }
        Some(ErrorCode::DiskFull) => format!("the disk holding the store {shown} is full"),
        Some(ErrorCode::SystemIoFailure) => {
            format!("cannot read or write the store {shown} (I/O error)")
        }
        _ => format!(
            "the store {shown} could not be used (SQLite error {}); it may be damaged, restore it from a backup",
            match e {
                rusqlite::Error::SqliteFailure(f, _) => f.extended_code.to_string(),
                _ => "in reading a row".to_owned(),
            }
        ),
    };
    Error::store(fault, message)
}

fn key_from_row(row: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        id: row.get(0)?,
        hash: KeyHash(row.get(1)?),
        prefix: row.get(2)?,
        name: row.get(3)?,
        description: row.get(4)?,
        service: row.get(5)?,
        disabled: row.get(6)?,
        created_at: row.get(7)?,
        expires_at: row.get(8)?,
        last_used_at: row.get(9)?,
        use_count: row.get(10)?,
        rotated_from: row.get(11)?,
        replaced_by: row.get(12)?,
        limits: limits_from_row(row, 14)?,
    })
}

/// The limits in the four columns from `first` on: scopes, remaining
/// uses, rate limit and its window.
fn limits_from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<Limits> {
    let limit: Option<u32> = row.get(first + 2)?;
    let per: Option<u32> = row.get(first + 3)?;
    Ok(Limits {
        scopes: Limits::scopes_from(row.get_ref(first)?.as_str_or_null()?),
        remaining_uses: row.get(first + 1)?,
        rate: limit
            .zip(per)
            .map(|(limit, per_seconds)| RateLimit { limit, per_seconds }),
    })
}

/// Reads a row into `key`, reusing its strings' memory: a listing of a
/// million keys then allocates for the first row, not for every row.
fn key_into(row: &Row<'_>, key: &mut KeyRecord) -> rusqlite::Result<()> {
    fn text(row: &Row<'_>, i: usize, into: &mut String) -> rusqlite::Result<()> {
        into.clear();
        into.push_str(row.get_ref(i)?.as_str()?);
        Ok(())
    }
    fn optional(row: &Row<'_>, i: usize, into: &mut Option<String>) -> rusqlite::Result<()> {
        match row.get_ref(i)?.as_str_or_null()? {
            None => *into = None,
            Some(value) => text_into(into.get_or_insert_with(String::new), value),
        }
        Ok(())
    }
    fn text_into(into: &mut String, value: &str) {
        into.clear();
        into.push_str(value);
    }
    text(row, 0, &mut key.id)?;
    key.hash = KeyHash(row.get(1)?);
    text(row, 2, &mut key.prefix)?;
    text(row, 3, &mut key.name)?;
    optional(row, 4, &mut key.description)?;
    optional(row, 5, &mut key.service)?;
    key.disabled = row.get(6)?;
    key.created_at = row.get(7)?;
    key.expires_at = row.get(8)?;
    key.last_used_at = row.get(9)?;
    key.use_count = row.get(10)?;
    optional(row, 11, &mut key.rotated_from)?;
    optional(row, 12, &mut key.replaced_by)?;
    key.limits = limits_from_row(row, 14)?;
    Ok(())
}

/// Reads a row into the record kept in `slot` (made at the first row),
/// reusing its memory row after row.
fn key_into_slot<'k>(
    row: &Row<'_>,
    slot: &'k mut Option<KeyRecord>,
) -> rusqlite::Result<&'k mut KeyRecord> {
    match slot {
        Some(key) => {
            key_into(row, key)?;
            Ok(key)
        }
        None => Ok(slot.insert(key_from_row(row)?)),
    }
}

fn insert_event(conn: &Connection, event: &Event) -> rusqlite::Result<()> {
    conn.prepare_cached(INSERT_EVENT)?
        .execute(params![
            event.at,
            event.action,
            event.key_id,
            event.actor,
            event.detail
        ])
        .map(drop)
}

fn select_key(conn: &Connection, id: &str) -> rusqlite::Result<Option<KeyRecord>> {
    conn.prepare_cached(SELECT_KEY_BY_ID)?
        .query_row([id], key_from_row)
        .optional()
}

fn credential_from_row(row: &Row<'_>) -> rusqlite::Result<Credential> {
    Ok(Credential {
        id: row.get(0)?,
        hash: KeyHash(row.get(1)?),
        name: row.get(2)?,
        service: row.get(3)?,
        disabled: row.get(4)?,
        expires_at: row.get(5)?,
        limits: limits_from_row(row, 6)?,
    })
}

impl SqliteStore {
    fn read<T>(&self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        work(&self.conn).map_err(|e| failure(&self.shown, &e))
    }

    /// Runs `work` in one IMMEDIATE write transaction and commits.
    fn write_sql<T>(&mut self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let run = |conn: &mut Connection| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = work(&tx)?;
            tx.commit()?;
            Ok(value)
        };
        run(&mut self.conn).map_err(|e| failure(&self.shown, &e))
    }

    /// A write transaction for many rows. A large one touches many index
    /// pages: a bigger page cache keeps them in memory instead of spilling
    /// to the WAL before the commit.
    fn bulk_transaction(&mut self) -> Result<rusqlite::Transaction<'_>> {
        let shown = &self.shown;
        self.conn
            .pragma_update(None, "cache_size", BULK_CACHE_KIB)
            .map_err(|e| failure(shown, &e))?;
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| failure(shown, &e))
    }

    /// SQLite's online backup of every page into `dest`, a new file.
    fn backup_pages(&mut self, dest: &Path) -> Result<()> {
        if self.conn.path().is_none_or(str::is_empty) {
            return Err(Error::store(
                StoreFault::Unavailable,
                format!(
                    "there is no store at {} yet: nothing to back up",
                    self.shown
                ),
            ));
        }
        let shown_dest = dest.display().to_string();
        let mut copy = Connection::open(dest).map_err(|e| failure(&shown_dest, &e))?;
        let backup = rusqlite::backup::Backup::new(&self.conn, &mut copy)
            .map_err(|e| failure(&self.shown, &e))?;
        // All pages in one step: one read transaction, so the copy is a
        // consistent snapshot even while other processes write (WAL).
        loop {
            match backup.step(-1).map_err(|e| failure(&self.shown, &e))? {
                rusqlite::backup::StepResult::Done => break,
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        drop(backup);
        // The copy is a store of its own: rollback journal, nothing left in a WAL.
        copy.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
            .map_err(|e| failure(&shown_dest, &e))?;
        copy.close().map_err(|(_, e)| failure(&shown_dest, &e))
    }
}

fn insert_key_with(stmt: &mut Statement<'_>, key: &KeyRecord) -> rusqlite::Result<bool> {
    let inserted = stmt.execute(params![
        key.id,
        key.hash.0,
        key.prefix,
        key.name,
        key.description,
        key.service,
        key.disabled,
        key.created_at,
        key.expires_at,
        key.rotated_from,
        key.replaced_by,
        key.limits.scopes_text(),
        key.limits.remaining_uses,
        key.limits.rate.map(|r| r.limit),
        key.limits.rate.map(|r| r.per_seconds),
    ])?;
    Ok(inserted == 1)
}

/// The steps of `Store::write`, inside one IMMEDIATE transaction: the
/// write lock is held from its start, so reading a key locks it too.
struct SqliteTransaction<'t> {
    conn: &'t Connection,
    shown: &'t str,
}

impl SqliteTransaction<'_> {
    fn run<T>(&self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        work(self.conn).map_err(|e| failure(self.shown, &e))
    }
}

impl Transaction for SqliteTransaction<'_> {
    fn lock_key(&mut self, id: &str) -> Result<Option<KeyRecord>> {
        self.run(|conn| select_key(conn, id))
    }

    fn insert_key(&mut self, key: &KeyRecord) -> Result<bool> {
        self.run(|conn| insert_key_with(&mut *conn.prepare_cached(INSERT_KEY)?, key))
    }

    fn save_key(&mut self, key: &KeyRecord) -> Result<()> {
        self.run(|conn| {
            conn.prepare_cached(
                "UPDATE keys SET name = ?2, description = ?3, service = ?4, disabled = ?5, \
                 expires_at = ?6, replaced_by = ?7, scopes = ?8, remaining_uses = ?9, \
                 rate_limit = ?10, rate_per = ?11 WHERE id = ?1",
            )?
            .execute(params![
                key.id,
                key.name,
                key.description,
                key.service,
                key.disabled,
                key.expires_at,
                key.replaced_by,
                key.limits.scopes_text(),
                key.limits.remaining_uses,
                key.limits.rate.map(|r| r.limit),
                key.limits.rate.map(|r| r.per_seconds),
            ])
            .map(drop)
        })
    }

    fn delete_key(&mut self, id: &str) -> Result<bool> {
        self.run(|conn| {
            let seq: Option<i64> = conn
                .prepare_cached("SELECT seq FROM keys WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            let Some(seq) = seq else {
                return Ok(false);
            };
            // Its uses go with it: a later key may be given the same `seq`.
            conn.prepare_cached("DELETE FROM usage WHERE seq = ?1")?
                .execute([seq])?;
            conn.prepare_cached("DELETE FROM keys WHERE seq = ?1")?
                .execute([seq])?;
            Ok(true)
        })
    }

    fn append_event(&mut self, event: &Event) -> Result<()> {
        self.run(|conn| insert_event(conn, event))
    }
}

/// The inserter `insert_batch` hands out: remembers the range of rows it
/// added, so they can be read back after the commit.
struct BatchInserter<'t> {
    tx: &'t Connection,
    // Prepared once: a cached lookup per row would hash the SQL text each time.
    insert_key: Statement<'t>,
    insert_event: Statement<'t>,
    shown: &'t str,
    rows: Option<(i64, i64)>,
}

impl KeyInserter for BatchInserter<'_> {
    fn insert(&mut self, keys: &[KeyRecord], events: &[Event]) -> Result<Vec<usize>> {
        let shown = self.shown;
        let fail = |e: rusqlite::Error| failure(shown, &e);
        let mut taken = Vec::new();
        for (i, (key, event)) in keys.iter().zip(events).enumerate() {
            if !insert_key_with(&mut self.insert_key, key).map_err(fail)? {
                taken.push(i);
                continue;
            }
            let seq = self.tx.last_insert_rowid();
            self.rows = Some(self.rows.map_or((seq, seq), |(first, _)| (first, seq)));
            self.insert_event
                .execute(params![
                    event.at,
                    event.action,
                    event.key_id,
                    event.actor,
                    event.detail,
                    seq
                ])
                .map_err(fail)?;
        }
        Ok(taken)
    }
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        at: row.get(0)?,
        action: row.get(1)?,
        key_id: row.get(2)?,
        actor: row.get(3)?,
        detail: row.get(4)?,
    })
}

impl Store for SqliteStore {
    fn schema_version(&self) -> i64 {
        SCHEMA_VERSION
    }

    fn write(&mut self, work: &mut dyn FnMut(&mut dyn Transaction) -> Result<()>) -> Result<()> {
        let shown = self.shown.as_str();
        // IMMEDIATE: the write lock up front (a deferred transaction could
        // fail busy on its first write without waiting).
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| failure(shown, &e))?;
        tx.execute_batch(COUNT_CHANGE)
            .map_err(|e| failure(shown, &e))?;
        work(&mut SqliteTransaction { conn: &tx, shown })?;
        tx.commit().map_err(|e| failure(shown, &e))
    }

    fn insert_batch(
        &mut self,
        fill: &mut dyn FnMut(&mut dyn KeyInserter) -> Result<()>,
        committed: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> Result<u64> {
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        let tx = self.bulk_transaction()?;
        tx.execute_batch(COUNT_CHANGE).map_err(fail)?;
        let mut inserter = BatchInserter {
            tx: &tx,
            insert_key: tx.prepare(INSERT_KEY).map_err(fail)?,
            insert_event: tx.prepare(INSERT_EVENT_WITH_SEQ).map_err(fail)?,
            shown: &shown,
            rows: None,
        };
        fill(&mut inserter)?;
        let rows = inserter.rows;
        drop(inserter);
        tx.commit().map_err(fail)?;
        let Some((first, last)) = rows else {
            return Ok(0);
        };
        // The write lock was held throughout: every row in the range is new.
        let mut stmt = self
            .conn
            .prepare_cached(SELECT_NEW_KEYS_IN_RANGE)
            .map_err(fail)?;
        let mut rows = stmt.query([first, last]).map_err(fail)?;
        let mut count = 0;
        let mut key: Option<KeyRecord> = None;
        while let Some(row) = rows.next().map_err(fail)? {
            committed(key_into_slot(row, &mut key).map_err(fail)?)?;
            count += 1;
        }
        Ok(count)
    }

    fn key_by_id(&mut self, id: &str) -> Result<Option<KeyRecord>> {
        self.read(|conn| select_key(conn, id))
    }

    fn credentials(
        &mut self,
        ids: &[&str],
        each: &mut dyn FnMut(usize, Option<Credential>) -> Result<()>,
    ) -> Result<()> {
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        let lookup = |conn: &Connection, id: &str| {
            conn.prepare_cached(SELECT_CREDENTIAL)?
                .query_row([id], credential_from_row)
                .optional()
        };
        if let [id] = ids {
            // One statement is its own consistent view.
            let found = lookup(&self.conn, id).map_err(fail)?;
            return each(0, found);
        }
        // One read transaction: one snapshot, one lock taken for all.
        let tx = self.conn.transaction().map_err(fail)?;
        for (i, id) in ids.iter().enumerate() {
            each(i, lookup(&tx, id).map_err(fail)?)?;
        }
        tx.commit().map_err(fail)
    }

    fn keys_by_name(&mut self, name: &str) -> Result<Vec<KeyRecord>> {
        self.read(|conn| {
            conn.prepare_cached(SELECT_KEYS_BY_NAME)?
                .query_map([name], key_from_row)?
                .collect()
        })
    }

    fn events(
        &mut self,
        filter: &EventFilter<'_>,
        each: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()> {
        let key_id = filter.key_id;
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        // A stored key's events by its `seq` (the id check guards against a
        // reused `seq`); a deleted key's by scanning for its id.
        let seq = match key_id {
            Some(id) => self
                .conn
                .prepare_cached("SELECT seq FROM keys WHERE id = ?1")
                .and_then(|mut s| s.query_row([id], |r| r.get::<_, i64>(0)).optional())
                .map_err(fail)?,
            None => None,
        };
        let sql = match (key_id, seq) {
            (None, _) => concat!(
                "SELECT at, action, key_id, actor, detail FROM events ",
                "WHERE ?1 IS NULL AND ?3 IS NULL",
                event_filters!(),
            ),
            (Some(_), Some(_)) => concat!(
                "SELECT at, action, key_id, actor, detail FROM events ",
                "WHERE key_seq = ?3 AND key_id = ?1",
                event_filters!(),
            ),
            (Some(_), None) => concat!(
                "SELECT at, action, key_id, actor, detail FROM events ",
                "WHERE key_id = ?1 AND ?3 IS NULL",
                event_filters!(),
            ),
        };
        // The actions as one JSON array parameter, NULL for every action.
        let actions = (!filter.actions.is_empty())
            .then(|| serde_json::to_string(filter.actions).unwrap_or_default());
        let mut stmt = self.conn.prepare_cached(sql).map_err(fail)?;
        let mut rows = stmt
            .query(params![
                key_id,
                sql_limit(filter.limit),
                seq,
                filter.since,
                actions
            ])
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            each(event_from_row(row).map_err(fail)?)?;
        }
        Ok(())
    }

    fn prefixes(&mut self) -> Result<Vec<String>> {
        self.read(|conn| {
            conn.prepare_cached("SELECT DISTINCT prefix FROM keys ORDER BY prefix")?
                .query_map([], |row| row.get(0))?
                .collect()
        })
    }

    fn services(&mut self) -> Result<Vec<String>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT DISTINCT service FROM keys WHERE service IS NOT NULL ORDER BY service",
            )?
            .query_map([], |row| row.get(0))?
            .collect()
        })
    }

    fn set_busy_timeout(&mut self, busy: Duration) -> Result<()> {
        self.set_busy(busy)
    }

    fn change_counter(&mut self) -> Result<Option<u64>> {
        // A read of one cached page while nothing changed: microseconds.
        self.read(|conn| {
            conn.prepare_cached("SELECT n FROM key_changes")?
                .query_row([], |row| row.get::<_, i64>(0))
        })
        .map(|n| Some(n as u64))
    }

    fn online_backup(&mut self, dest: &Path) -> Option<Result<()>> {
        Some(self.backup_pages(dest))
    }

    fn record_use_counts(&mut self, uses: &[(&str, u64)], at: Timestamp) -> Result<()> {
        let shown = self.shown.as_str();
        if let [(id, count)] = uses {
            // One key (`verify`): one statement, its own transaction.
            let count = i64::try_from(*count).unwrap_or(i64::MAX);
            return self
                .conn
                .prepare_cached(RECORD_USE_BY_ID)
                .and_then(|mut s| s.execute(params![id, at, count]))
                .map(drop)
                .map_err(|e| failure(shown, &e));
        }
        // Escaped as JSON: an id a library caller passes may hold anything.
        let (statement, json) = if uses.iter().all(|(_, n)| *n == 1) {
            let ids: Vec<&str> = uses.iter().map(|(id, _)| *id).collect();
            (RECORD_USES_BY_ID, serde_json::to_string(&ids))
        } else {
            (RECORD_USE_COUNTS_BY_ID, serde_json::to_string(uses))
        };
        let json = json.map_err(|e| Error::output(e.into()))?;
        self.write_sql(|tx| {
            tx.prepare_cached(statement)?
                .execute(params![json, at])
                .map(drop)
        })
    }

    fn spend_uses(&mut self, wanted: &[(&str, u64)], at: Timestamp) -> Result<Vec<Option<Spent>>> {
        // IMMEDIATE: the write lock is held from the read of what is left
        // to the commit, so no other process spends the same uses.
        self.write_sql(|tx| {
            let mut answers = Vec::with_capacity(wanted.len());
            for &(id, n) in wanted {
                let found: Option<(i64, Option<i64>)> = tx
                    .prepare_cached("SELECT seq, remaining_uses FROM keys WHERE id = ?1")?
                    .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let Some((seq, remaining)) = found else {
                    answers.push(None);
                    continue;
                };
                let spent = Spent::of(remaining, n);
                if remaining.is_some() && spent.granted > 0 {
                    tx.prepare_cached("UPDATE keys SET remaining_uses = ?2 WHERE seq = ?1")?
                        .execute(params![seq, spent.remaining])?;
                }
                if spent.granted > 0 {
                    let count = i64::try_from(spent.granted).unwrap_or(i64::MAX);
                    tx.prepare_cached(RECORD_USE_BY_ID)?
                        .execute(params![id, at, count])?;
                }
                answers.push(Some(spent));
            }
            Ok(answers)
        })
    }

    fn list_keys(
        &mut self,
        filter: &KeyFilter,
        each: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> Result<()> {
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        if filter.is_everything() {
            // Two statements, one snapshot.
            self.conn.execute_batch("BEGIN").map_err(fail)?;
            let listed = self.list_all(sql_limit(filter.limit), each);
            let ended = self.conn.execute_batch("COMMIT");
            let listed = listed.map_err(fail)?;
            ended.map_err(fail)?;
            return listed;
        }
        let mut stmt = self
            .conn
            .prepare_cached(&filter.order.sql(SELECT_KEYS_FILTERED, "?4"))
            .map_err(fail)?;
        let mut rows = stmt
            .query(params![
                filter.service,
                filter.status.map(Status::as_str),
                filter.now,
                sql_limit(filter.limit),
                filter.expiring_by,
                filter.unused_since,
            ])
            .map_err(fail)?;
        let mut key: Option<KeyRecord> = None;
        while let Some(row) = rows.next().map_err(fail)? {
            each(key_into_slot(row, &mut key).map_err(fail)?)?;
        }
        Ok(())
    }

    fn export(&mut self, each: &mut dyn FnMut(Item<'_>) -> Result<()>) -> Result<()> {
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        // One read transaction: a consistent snapshot while others write.
        self.conn.execute_batch("BEGIN").map_err(fail)?;
        let exported = self.export_from(each);
        let ended = self.conn.execute_batch("COMMIT");
        let exported = exported.map_err(fail)?;
        ended.map_err(fail)?;
        exported
    }

    fn import(&mut self, fill: &mut dyn FnMut(&mut dyn Importer) -> Result<()>) -> Result<Copied> {
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        let tx = self.bulk_transaction()?;
        let occupied: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM keys) OR EXISTS (SELECT 1 FROM events)",
                [],
                |row| row.get(0),
            )
            .map_err(fail)?;
        if occupied {
            return Err(super::occupied(&shown));
        }
        tx.execute_batch(COUNT_CHANGE).map_err(fail)?;
        let mut importer = CopyImporter {
            tx: &tx,
            insert_key: tx.prepare(INSERT_KEY).map_err(fail)?,
            insert_usage: tx.prepare(INSERT_USAGE).map_err(fail)?,
            insert_event: tx.prepare(INSERT_EVENT).map_err(fail)?,
            shown: &shown,
            copied: Copied::default(),
        };
        fill(&mut importer)?;
        let copied = importer.copied;
        drop(importer);
        tx.commit().map_err(fail)?;
        Ok(copied)
    }
}

impl SqliteStore {
    /// Every key newest first, each with its uses, found by walking `usage`
    /// down in the same order beside the keys: a merge, not a search per row.
    fn list_all(
        &self,
        limit: i64,
        each: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> rusqlite::Result<Result<()>> {
        let mut keys = self.conn.prepare_cached(SELECT_KEYS_NEWEST)?;
        let mut key_rows = keys.query([limit])?;
        let mut usage = self.conn.prepare_cached(SELECT_USAGE_NEWEST)?;
        let mut usage_rows = usage.query([])?;
        // The next use at or below the current key's seq: (seq, last used, count).
        let mut next_use: Option<(i64, i64, i64)> = None;
        let mut usage_done = false;
        let mut key: Option<KeyRecord> = None;
        while let Some(row) = key_rows.next()? {
            let key = key_into_slot(row, &mut key)?;
            let key_seq: i64 = row.get(13)?;
            while !usage_done && next_use.is_none_or(|(seq, _, _)| seq > key_seq) {
                match usage_rows.next()? {
                    Some(u) => next_use = Some((u.get(0)?, u.get(1)?, u.get(2)?)),
                    None => {
                        next_use = None;
                        usage_done = true;
                    }
                }
            }
            (key.last_used_at, key.use_count) = match next_use {
                Some((seq, at, count)) if seq == key_seq => (Some(at), count),
                _ => (None, 0),
            };
            if let Err(e) = each(key) {
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }

    fn export_from(
        &self,
        each: &mut dyn FnMut(Item<'_>) -> Result<()>,
    ) -> rusqlite::Result<Result<()>> {
        let mut keys = self.conn.prepare(SELECT_ALL_KEYS)?;
        let mut rows = keys.query([])?;
        while let Some(row) = rows.next()? {
            if let Err(e) = each(Item::Key(&key_from_row(row)?)) {
                return Ok(Err(e));
            }
        }
        let mut events = self
            .conn
            .prepare("SELECT at, action, key_id, actor, detail FROM events ORDER BY seq")?;
        let mut rows = events.query([])?;
        while let Some(row) = rows.next()? {
            if let Err(e) = each(Item::Event(&event_from_row(row)?)) {
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }
}

/// `import`'s importer: one prepared statement per kind of row.
struct CopyImporter<'t> {
    tx: &'t Connection,
    insert_key: Statement<'t>,
    insert_usage: Statement<'t>,
    insert_event: Statement<'t>,
    shown: &'t str,
    copied: Copied,
}

impl Importer for CopyImporter<'_> {
    fn add(&mut self, item: Item<'_>) -> Result<()> {
        let shown = self.shown;
        let fail = |e: rusqlite::Error| failure(shown, &e);
        match item {
            Item::Key(key) => {
                if !insert_key_with(&mut self.insert_key, key).map_err(fail)? {
                    return Err(Error::store(
                        StoreFault::Damaged,
                        format!("the copy holds key {} twice; nothing was copied", key.id),
                    ));
                }
                if key.use_count > 0 || key.last_used_at.is_some() {
                    self.insert_usage
                        .execute(params![
                            self.tx.last_insert_rowid(),
                            key.last_used_at.unwrap_or(key.created_at),
                            key.use_count
                        ])
                        .map_err(fail)?;
                }
                self.copied.keys += 1;
            }
            Item::Event(event) => {
                self.insert_event
                    .execute(params![
                        event.at,
                        event.action,
                        event.key_id,
                        event.actor,
                        event.detail
                    ])
                    .map_err(fail)?;
                self.copied.events += 1;
            }
        }
        Ok(())
    }
}

/// SQLite reads a negative LIMIT as "no limit".
fn sql_limit(limit: Option<u64>) -> i64 {
    limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn a_path_is_one_shell_word() {
        assert_eq!(super::shell_word("/a b/it's"), r"'/a b/it'\''s'");
        assert_eq!(super::shell_word("-x.db"), "'./-x.db'");
        assert_eq!(super::shell_word("$HOME `x`"), "'$HOME `x`'");
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
        conn.pragma_update(None, "user_version", super::SCHEMA_VERSION + 1)
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
        for step in super::MIGRATIONS {
            migrated.execute_batch(step).unwrap();
        }
        let fresh = Connection::open_in_memory().unwrap();
        fresh.execute_batch(super::CURRENT_SCHEMA).unwrap();
        assert_eq!(shape(&fresh), shape(&migrated));
    }
}

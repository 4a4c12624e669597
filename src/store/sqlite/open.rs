//! Opening a SQLite store: what is at the path is judged from its bytes
//! first (`probe`), a new store is created private, the schema is brought
//! up to date (`schema`) and every commit made durable.

use std::fs::{self, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::SqliteStore;
use super::errors::{failure, not_a_store};
use super::probe::{self, Found};
use super::schema::{APPLICATION_ID, SCHEMA_VERSION, newer_schema};
use crate::error::{Error, Result, StoreFault};
use crate::store::OpenMode;

/// Long enough to ride out a burst of writers, short enough not to look hung.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a blank file beside a rollback journal is watched for the
/// change under way to finish, before it is refused.
const JOURNAL_WAIT: Duration = Duration::from_secs(2);

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
        let (exposed, found, file) = loop {
            match examine(path, &shown)? {
                None if created => {
                    return Err(Error::store(
                        StoreFault::Unavailable,
                        format!("cannot create the store {shown}: it was removed as it was made"),
                    ));
                }
                None => match mode {
                    OpenMode::NoCreate => return Err(crate::store::missing(&shown)),
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
                    return Err(crate::store::missing(&format!(
                        "{shown}, only a blank file"
                    )));
                }
                Some((found, meta)) => break (readable_by_others(&meta), found, file_id(&meta)),
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
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| failure(&shown, &e))?;
        // Before anything else: even reading the header may wait on a writer.
        wait_for_locks(&mut conn, busy).map_err(|e| failure(&shown, &e))?;
        let mut store = SqliteStore {
            conn,
            shown,
            path: path.to_path_buf(),
            file,
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
                crate::shell::shell_word(&store.shown)
            ));
        }
        Ok(store)
    }

    /// How long each later statement waits for another process's lock.
    pub fn set_busy(&mut self, busy: Duration) -> Result<()> {
        wait_for_locks(&mut self.conn, busy).map_err(|e| failure(&self.shown, &e))?;
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
        self.durable_commits()
    }

    /// Every commit reaches the disk before keysmith reports it: a key that
    /// was printed is never lost.
    fn durable_commits(&self) -> rusqlite::Result<()> {
        self.conn.pragma_update(None, "synchronous", "FULL")
    }
}

/// The longest pause between two tries for a lock another connection
/// holds (see `wait_for_locks`).
const LOCK_POLL: Duration = Duration::from_millis(1);

/// Makes `conn` wait for another connection's lock up to `patience`,
/// trying again at least every `LOCK_POLL`; not at all when `patience` is
/// zero.
///
/// Not SQLite's own handler (`busy_timeout`): it sleeps up to 100 ms
/// between tries, and a writer that looks so rarely almost never finds the
/// lock free while another process writes again and again (two `serve`s
/// spending uses of one key take turns only microseconds apart). It
/// starves, and its request is answered 503, though the lock was free
/// hundreds of times a second.
fn wait_for_locks(conn: &mut Connection, patience: Duration) -> rusqlite::Result<()> {
    if patience.is_zero() {
        return conn.busy_timeout(Duration::ZERO);
    }
    let mut since = Instant::now();
    conn.busy_handler(Some(move |tries: i32| {
        // `tries` counts the calls for one wait, from 0.
        if tries == 0 {
            since = Instant::now();
        }
        if since.elapsed() >= patience {
            return false;
        }
        // 50 µs, 100 µs, ... up to `LOCK_POLL`: a short wait costs little.
        let pause = Duration::from_micros(50).saturating_mul(tries.unsigned_abs() + 1);
        std::thread::sleep(pause.min(LOCK_POLL));
        true
    }))
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
        builder.mode(0o700);
        builder.create(parent).map_err(cannot)?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    options.mode(0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another keysmith process created it first: theirs is as good.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(cannot(e)),
    }
}

fn readable_by_others(meta: &fs::Metadata) -> bool {
    meta.mode() & 0o044 != 0
}

/// The file `meta` describes (device, inode). Read before the connection
/// opens the path: a file put there in between is then found changed by
/// the next `still_at_location`, never the reverse.
fn file_id(meta: &fs::Metadata) -> Option<(u64, u64)> {
    Some((meta.dev(), meta.ino()))
}

impl SqliteStore {
    /// Whether the file now at the path is the one this connection opened
    /// (see `Store::still_at_location`): one `stat`.
    pub(super) fn on_the_file_at_path(&self) -> Result<bool> {
        let meta = fs::metadata(&self.path).map_err(|e| {
            Error::store(
                StoreFault::Unavailable,
                format!("cannot read the store {}: {e}", self.shown),
            )
        })?;
        Ok(file_id(&meta) == self.file)
    }
}

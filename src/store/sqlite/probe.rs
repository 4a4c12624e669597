//! What a file is, told from its bytes alone, before SQLite opens it.
//!
//! A read-write connection changes a WAL-mode database merely by opening and
//! closing it: it recovers the -wal into the -shm, and the last connection to
//! close checkpoints the -wal into the main file and deletes both. A
//! read-only connection still rewrites the -shm. So a file keysmith may refuse
//! is never given to SQLite: its header (and, where its header is blank, the
//! newest committed copy of its first page in the -wal, read as SQLite's
//! recovery reads it) decides. SQLite only ever opens a keysmith store, a
//! blank file about to become one, or a path keysmith has just created.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read};
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The first bytes of every SQLite database file.
const MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// The database header, then the page header of the schema table's root,
/// which is page 1: a leaf (8 bytes) holds the schema's row count.
const HEAD: usize = 108;
/// A table b-tree leaf page (the schema table's root when the schema fits in it).
const LEAF_TABLE_PAGE: u8 = 0x0D;
/// WAL header magic; the low bit says the checksums are big-endian.
const WAL_MAGIC: u32 = 0x377F_0682;
const WAL_VERSION: u32 = 3_007_000;
const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// What is at a store's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// Nothing to lose: zero bytes, or a SQLite database with no schema,
    /// no application id and user_version 0.
    Blank,
    /// Carries keysmith's application id; `version` is its schema version
    /// as the main file's header has it (a newer one may be in the -wal),
    /// and `wal` whether the file is in WAL mode.
    Keysmith { version: i64, wal: bool },
    /// Anything else: another program's database, text, damage.
    Foreign,
    /// Blank in the main file, beside a rollback journal SQLite would roll
    /// back (which writes): another process is changing it, or was killed
    /// while it did. What it holds is known once that is over.
    Journal,
    /// Not a regular file: a directory, FIFO, socket or device (named here).
    Special(&'static str),
}

/// Looks at the file at `path`, whose metadata (symlinks followed) is
/// `meta`, without changing anything there. `app_id` is keysmith's.
pub(super) fn probe(path: &Path, meta: &fs::Metadata, app_id: u32) -> io::Result<Found> {
    if let Some(kind) = special(&meta.file_type()) {
        return Ok(Found::Special(kind));
    }
    let mut head = [0u8; HEAD];
    let len = read_head(&open_plain(path)?, &mut head)?;
    if len == 0 {
        // SQLite reads a zero-byte file as an empty database (and discards
        // any -wal beside it): nothing in it to lose.
        return Ok(Found::Blank);
    }
    let main = judge(&head[..len], app_id);
    if main != Found::Blank {
        // A keysmith store's application id never changes once written,
        // and a foreign header is refused whatever a -wal may say.
        return Ok(main);
    }
    // Blank in the main file: a rollback journal or a -wal may say otherwise.
    if hot_journal(&beside(path, "-journal"))? {
        return Ok(Found::Journal);
    }
    match newest_first_page(&beside(path, "-wal"))? {
        Wal::Absent => Ok(Found::Blank),
        Wal::Page(page) => Ok(judge(&page, app_id)),
        Wal::Unreadable => Ok(Found::Foreign),
    }
}

/// Whether SQLite could take the journal at `path` for a hot one: it holds
/// something and its first byte is not zero (PERSIST mode zeroes the header
/// of a journal it is done with). Whether a live writer holds the lock that
/// makes it not hot yet cannot be asked without taking part in the locking.
fn hot_journal(path: &Path) -> io::Result<bool> {
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Ok(true),
        Ok(meta) if meta.len() == 0 => Ok(false),
        Ok(_) => match open_plain(path) {
            Ok(file) => {
                let mut first = [0u8; 1];
                Ok(read_head(&file, &mut first)? == 1 && first[0] != 0)
            }
            // Gone between the two looks: its writer committed (another
            // keysmith making a blank file a store, found by CI once in 40).
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// What a page 1 says: keysmith's, blank, or foreign.
fn judge(page: &[u8], app_id: u32) -> Found {
    if page.len() < HEAD || !page.starts_with(MAGIC) {
        return Found::Foreign;
    }
    let be32 = |at: usize| u32::from_be_bytes(page[at..at + 4].try_into().unwrap());
    let application = be32(68);
    let user_version = be32(60);
    if application == app_id {
        return Found::Keysmith {
            version: i64::from(user_version as i32),
            // The file format's write and read versions: 2 in WAL mode.
            wal: page[18] == 2 && page[19] == 2,
        };
    }
    let schema_rows = u16::from_be_bytes([page[103], page[104]]);
    if application == 0 && user_version == 0 && page[100] == LEAF_TABLE_PAGE && schema_rows == 0 {
        Found::Blank
    } else {
        Found::Foreign
    }
}

/// What a file that is not a regular file is, for messages; None for a regular file.
pub(crate) fn special(kind: &fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("directory")
    } else if kind.is_fifo() {
        Some("FIFO (named pipe)")
    } else if kind.is_socket() {
        Some("socket")
    } else if kind.is_char_device() {
        Some("character device")
    } else if kind.is_block_device() {
        Some("block device")
    } else {
        Some("special file")
    }
}

/// Opens for reading only; never blocks (a FIFO put in place meanwhile) and
/// never makes a terminal the controlling one.
fn open_plain(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    options.custom_flags((rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY).bits() as i32);
    options.open(path)
}

/// Fills `buf` from the start of the file, as far as the file goes.
fn read_head(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

pub(super) fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// What a -wal holds for page 1.
enum Wal {
    /// No -wal, or none SQLite would read: an empty or invalid header, or
    /// no committed copy of page 1.
    Absent,
    /// The newest committed copy of page 1.
    Page(Vec<u8>),
    /// Something at the -wal path that is not a regular file.
    Unreadable,
}

/// The newest committed copy of page 1 in the WAL file at `path`, found as
/// SQLite's recovery finds it: frames are read in order while their salts
/// match the header's and their cumulative checksums hold; only frames up
/// to the last commit frame among those count.
fn newest_first_page(path: &Path) -> io::Result<Wal> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Wal::Absent),
        Err(e) => return Err(e),
    };
    if !meta.is_file() {
        return Ok(Wal::Unreadable);
    }
    let mut wal = io::BufReader::with_capacity(1 << 16, open_plain(path)?);
    let mut header = [0u8; WAL_HEADER];
    if !read_full(&mut wal, &mut header)? {
        return Ok(Wal::Absent);
    }
    let be32 = |b: &[u8], at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    let magic = be32(&header, 0);
    if magic & !1 != WAL_MAGIC || be32(&header, 4) != WAL_VERSION {
        return Ok(Wal::Absent);
    }
    let big_endian = magic & 1 == 1;
    let page_size = be32(&header, 8) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Ok(Wal::Absent);
    }
    let salts = (be32(&header, 16), be32(&header, 20));
    let mut sum = checksum(&header[..24], (0, 0), big_endian);
    if sum != (be32(&header, 24), be32(&header, 28)) {
        return Ok(Wal::Absent);
    }
    let mut frame = vec![0u8; FRAME_HEADER + page_size];
    let mut newest: Option<Vec<u8>> = None;
    let mut committed: Option<Vec<u8>> = None;
    while read_full(&mut wal, &mut frame)? {
        let page_number = be32(&frame, 0);
        if page_number == 0 || (be32(&frame, 8), be32(&frame, 12)) != salts {
            break;
        }
        sum = checksum(&frame[..8], sum, big_endian);
        sum = checksum(&frame[FRAME_HEADER..], sum, big_endian);
        if sum != (be32(&frame, 16), be32(&frame, 20)) {
            break;
        }
        if page_number == 1 {
            newest = Some(frame[FRAME_HEADER..].to_vec());
        }
        if be32(&frame, 4) != 0 {
            // A commit frame: everything up to here is in the database.
            committed.clone_from(&newest);
        }
    }
    Ok(committed.map_or(Wal::Absent, Wal::Page))
}

/// Reads exactly `buf.len()` bytes; `false` at an end of file before that.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    match reader.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing
/// from `sum`, reading 32-bit words in the byte order the WAL header names.
fn checksum(data: &[u8], (mut s0, mut s1): (u32, u32), big_endian: bool) -> (u32, u32) {
    let word = |b: &[u8]| {
        let b: [u8; 4] = b.try_into().unwrap();
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    for pair in data.chunks_exact(8) {
        s0 = s0.wrapping_add(word(&pair[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rusqlite::Connection;

    use super::{Found, probe};

    const KSMT: u32 = 0x4B53_4D54;

    fn found(path: &Path) -> Found {
        probe(path, &std::fs::metadata(path).unwrap(), KSMT).unwrap()
    }

    /// A WAL-mode database, its changes left in the -wal as a killed writer
    /// leaves them (the writer's files copied while it is open).
    fn killed_writer(dir: &Path, steps: &[&str]) -> std::path::PathBuf {
        let live = dir.join("live.db");
        let conn = Connection::open(&live).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;")
            .unwrap();
        for step in steps {
            conn.execute_batch(step).unwrap();
        }
        let copy = dir.join("copy.db");
        for suffix in ["", "-wal", "-shm"] {
            std::fs::copy(super::beside(&live, suffix), super::beside(&copy, suffix)).unwrap();
        }
        copy
    }

    #[test]
    fn a_schema_only_in_the_wal_is_foreign() {
        let dir = tempfile::tempdir().unwrap();
        let db = killed_writer(dir.path(), &["CREATE TABLE t (x)"]);
        assert_eq!(found(&db), Found::Foreign);
    }

    #[test]
    fn keysmith_s_application_id_only_in_the_wal_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let db = killed_writer(
            dir.path(),
            &["PRAGMA application_id = 1263750484; PRAGMA user_version = 2;"],
        );
        assert_eq!(
            found(&db),
            Found::Keysmith {
                version: 2,
                wal: true
            }
        );
    }

    #[test]
    fn only_committed_frames_with_good_checksums_count() {
        let dir = tempfile::tempdir().unwrap();
        // First commit: page 1 blank again (a table made and dropped);
        // second commit: a table.
        let db = killed_writer(
            dir.path(),
            &["CREATE TABLE t (x); DROP TABLE t;", "CREATE TABLE u (y)"],
        );
        assert_eq!(found(&db), Found::Foreign);
        let wal = super::beside(&db, "-wal");
        let bytes = std::fs::read(&wal).unwrap();
        // The last frame damaged: its checksum fails, so recovery stops at
        // the first commit.
        let mut damaged = bytes.clone();
        let last = damaged.len() - 100;
        damaged[last] ^= 0xFF;
        std::fs::write(&wal, &damaged).unwrap();
        assert_eq!(found(&db), Found::Blank);
        // Cut short in the middle of the last frame: the same.
        std::fs::write(&wal, &bytes[..bytes.len() - 10]).unwrap();
        assert_eq!(found(&db), Found::Blank);
        // A header whose checksum fails: SQLite ignores the whole -wal.
        let mut header = bytes.clone();
        header[16] ^= 1;
        std::fs::write(&wal, &header).unwrap();
        assert_eq!(found(&db), Found::Blank);
        std::fs::write(&wal, &bytes).unwrap();
        assert_eq!(found(&db), Found::Foreign);
    }

    #[test]
    fn text_short_files_and_zero_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(found(&path), Found::Blank);
        std::fs::write(&path, b"SQLite format 3\0").unwrap();
        assert_eq!(found(&path), Found::Foreign);
        std::fs::write(&path, [b'x'; 4096]).unwrap();
        assert_eq!(found(&path), Found::Foreign);
    }
}

//! `backup`: a consistent copy of any store into a new SQLite file, mode
//! 0600, while other processes keep using the store. SQLite's online
//! backup copies a SQLite store page by page; any other backend is copied
//! key by key (`copy`). The copy is written beside the destination under
//! a temporary name and renamed into place, so the destination is either
//! absent, the old file, or a complete backup.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::{Location, OpenMode, SqliteStore, Store, copy, special_file_kind};
use crate::error::{Error, Failure, Result};

/// The files of a SQLite database: the main file, then those beside it.
pub const SUFFIXES: [&str; 4] = ["", "-wal", "-shm", "-journal"];

/// Refuses a destination a backup must not write (exit 2, nothing changed):
/// the store itself or one of its files, anything but a regular file, and
/// an existing file without `force`.
pub fn check_destination(location: &Location, dest: &Path, force: bool) -> Result<()> {
    let shown = dest.display();
    if let Location::Sqlite(path) = location {
        refuse_the_store_s_files(path, dest)?;
    }
    match fs::metadata(dest) {
        Ok(meta) if !meta.is_file() => {
            let kind = special_file_kind(&meta.file_type()).unwrap_or("special file");
            Err(Error::Usage(format!(
                "{shown} is a {kind}, not a regular file: backup writes a new file or \
                 replaces a regular one; name another path"
            )))
        }
        Ok(_) if !force => Err(Error::Usage(format!(
            "{shown} already exists; pass --force to replace it"
        ))),
        _ => Ok(()),
    }
}

/// Writes a consistent copy of `store` to `dest` (checked first with
/// `check_destination`).
pub fn write(store: &mut dyn Store, dest: &Path) -> Result<()> {
    let shown = dest.display();
    let temp = temporary_beside(dest);
    // A folder that is not there yet is made, private, as the store's is.
    if let Some(folder) = dest.parent().filter(|p| !p.as_os_str().is_empty())
        && !folder.exists()
    {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(folder).map_err(|e| {
            Error::failed(
                Failure::File,
                format!("cannot make the folder for {shown}: {e}"),
            )
        })?;
    }
    create_private(&temp)
        .map_err(|e| Error::failed(Failure::File, format!("cannot write {shown}: {e}")))?;
    let copied = match store.online_backup(&temp) {
        Some(done) => done,
        None => SqliteStore::open(&temp, OpenMode::Create)
            .and_then(|mut to| copy(store, &mut to).map(drop)),
    };
    let result = copied.and_then(|()| {
        // A WAL or shared-memory file left by an older FILE would be replayed
        // into the new one: remove them before the rename.
        remove_side_files(dest);
        fs::rename(&temp, dest)
            .map_err(|e| Error::failed(Failure::File, format!("cannot write {shown}: {e}")))
    });
    if result.is_err() {
        remove_sqlite_files(&temp);
    }
    result
}

/// Removes a SQLite database's `-wal`, `-shm` and `-journal`.
pub fn remove_side_files(path: &Path) {
    for suffix in &SUFFIXES[1..] {
        let _ = fs::remove_file(with_suffix(path, suffix));
    }
}

/// Removes a SQLite database with the files beside it: a store this
/// process made and that is not to be kept.
pub fn remove_sqlite_files(path: &Path) {
    let _ = fs::remove_file(path);
    remove_side_files(path);
}

/// A backup to `dest` replaces `dest` and removes its -wal, -shm and
/// -journal: none of them may be the store at `store` or one of its own
/// files (which exist or not from one moment to the next). Renaming a copy
/// over a store that other processes have open, or removing its -wal, loses
/// what they commit. A file is the same when it is (device and inode, hard
/// links included) or, when either does not exist, when both names lead to
/// the same place (symlinks followed, folders made canonical).
fn refuse_the_store_s_files(store: &Path, dest: &Path) -> Result<()> {
    let mut theirs: Vec<(&str, FileId)> = SUFFIXES
        .iter()
        .map(|suffix| (*suffix, FileId::of(&with_suffix(store, suffix))))
        .collect();
    // SQLite names the -wal, -shm and -journal after the store's real path.
    if let Ok(real) = fs::canonicalize(store) {
        theirs.extend(
            SUFFIXES
                .iter()
                .map(|suffix| (*suffix, FileId::of(&with_suffix(&real, suffix)))),
        );
    }
    let (shown, store_shown) = (dest.display(), store.display());
    for suffix in SUFFIXES {
        let ours = FileId::of(&with_suffix(dest, suffix));
        let Some((theirs, _)) = theirs.iter().find(|(_, id)| id.same(&ours)) else {
            continue;
        };
        let what = match *theirs {
            "" => "the store itself".to_owned(),
            other => format!("the store's {other} file"),
        };
        let which = if suffix.is_empty() {
            format!("{shown} is {what}")
        } else {
            format!("{shown}{suffix}, which a backup to {shown} would remove, is {what}")
        };
        return Err(Error::Usage(format!(
            "{which} ({store_shown}); back up to a file outside the store"
        )));
    }
    Ok(())
}

/// What names a file: its device and inode when it exists, and the place
/// its name leads to.
struct FileId {
    inode: Option<(u64, u64)>,
    place: Option<PathBuf>,
}

impl FileId {
    fn of(path: &Path) -> FileId {
        FileId {
            inode: inode(path),
            place: place(path),
        }
    }

    fn same(&self, other: &FileId) -> bool {
        (self.inode.is_some() && self.inode == other.inode)
            || (self.place.is_some() && self.place == other.place)
    }
}

fn inode(path: &Path) -> Option<(u64, u64)> {
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Where `path` leads, whether or not a file is there: its symlinks
/// followed (a dangling one too), then its folder made canonical.
fn place(path: &Path) -> Option<PathBuf> {
    let mut path = path.to_path_buf();
    // As many links as Linux follows before giving up (ELOOP).
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&path).ok()?;
                // An absolute target replaces the whole path in `join`.
                path = match path.parent() {
                    Some(parent) => parent.join(target),
                    None => target,
                };
            }
            _ => break,
        }
    }
    let Some(name) = path.file_name() else {
        // Ends in `..` or is a root: a folder, which exists or leads nowhere.
        return fs::canonicalize(&path).ok();
    };
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(folder).ok()?.join(name))
}

pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn temporary_beside(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.keysmith-{}.tmp", std::process::id()))
}

/// Creates an empty file only its owner can read, before any key hash is in it.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    options.mode(0o600);
    options.open(path).map(drop)
}

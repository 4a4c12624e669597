//! `keysmith backup FILE`: a consistent copy of the store, mode 0600.
//!
//! The copy is written beside FILE under a temporary name and renamed into
//! place, so FILE is either absent, the old file, or a complete backup.

use std::fs::{self, OpenOptions};
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::Context;
use crate::cli::BackupArgs;
use crate::error::{Error, Result};
use crate::store::OpenMode;

pub fn run(ctx: &mut Context, args: BackupArgs) -> Result<u8> {
    let dest = &args.file;
    let shown = dest.display();
    if dest.is_dir() {
        return Err(Error::Usage(format!("{shown} is a directory; name a file")));
    }
    if dest.exists() && !args.force {
        return Err(Error::Usage(format!(
            "{shown} already exists; pass --force to replace it"
        )));
    }
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let temp = temporary_beside(dest);
    create_private(&temp).map_err(|e| Error::Usage(format!("cannot write {shown}: {e}")))?;
    let result = store.backup_to(&temp).and_then(|()| {
        // A WAL or shared-memory file left by an older FILE would be replayed
        // into the new one: remove them before the rename.
        for suffix in ["-wal", "-shm", "-journal"] {
            let _ = fs::remove_file(with_suffix(dest, suffix));
        }
        fs::rename(&temp, dest).map_err(|e| Error::Usage(format!("cannot write {shown}: {e}")))
    });
    if result.is_err() {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = fs::remove_file(with_suffix(&temp, suffix));
        }
    }
    result?;
    if ctx.out.json {
        ctx.out
            .json_line(&serde_json::json!({"backup": dest.display().to_string()}))?;
    } else {
        ctx.out.notice(&format!("Backed up the store to {shown}"))?;
    }
    Ok(0)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
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
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).map(drop)
}

//! `keysmith backup FILE`: a consistent copy of the store, mode 0600
//! (`store::backup` does the work).

use super::Context;
use crate::error::Result;
use crate::help::examples;
use crate::store::{self, OpenMode};
use clap::Args;

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith backup ~/backups/keys-$(date +%F).db",
    "keysmith --db postgres://keysmith@db.internal/keysmith backup keys.db",
))]
pub struct BackupArgs {
    /// Where to write the copy
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,

    /// Replace FILE if it exists
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &mut Context, args: BackupArgs) -> Result<u8> {
    let dest = &args.file;
    let choice = ctx.choose()?;
    // Before the store is opened: a refused backup changes nothing.
    store::backup::check_destination(&choice.location, dest, args.force)?;
    let mut opened = ctx.open_chosen(&choice, OpenMode::NoCreate)?;
    store::backup::write(opened.as_mut(), dest)?;
    if ctx.out.json {
        ctx.out
            .json_line(&serde_json::json!({"backup": dest.display().to_string()}))?;
    } else {
        ctx.out
            .notice(&format!("Backed up the store to {}", dest.display()))?;
    }
    Ok(0)
}

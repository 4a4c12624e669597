//! `keysmith migrate --to URL|PATH`: copy the whole store into another,
//! empty one, of either kind, in one transaction on the target.

use super::Context;
use crate::error::{Error, Result};
use crate::help::examples;
use crate::store::{self, Location, OpenMode};
use clap::Args;

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith migrate --to postgres://keysmith@db.internal/keysmith",
    "keysmith --db postgres://keysmith@db.internal/keysmith migrate --to keys.db",
))]
pub struct MigrateArgs {
    /// The empty store to copy into: a SQLite path or a postgres:// URL
    #[arg(long, value_name = "URL|PATH")]
    pub to: String,
}

pub fn run(ctx: &mut Context, args: MigrateArgs) -> Result<u8> {
    let choice = ctx.choose()?;
    let source = &choice.location;
    let target = Location::parse(&args.to)?;
    let (from, to) = (source.display(), target.display());
    if *source == target {
        return Err(Error::Usage(format!(
            "{to} is the store being copied; name another with --to"
        )));
    }
    // Nothing there, or a blank file, is no store (exit 4): nothing to copy.
    let mut from_store = ctx.open_chosen(&choice, OpenMode::NoCreate)?;
    // A file this command creates is removed again if the copy fails.
    let creation = store::Creation::before_opening(&target);
    let copied = store::open(&target, OpenMode::Create).and_then(|mut to| {
        for warning in &to.warnings {
            ctx.out.notice(&format!("warning: {warning}"))?;
        }
        store::copy(from_store.as_mut(), to.store.as_mut())
    });
    let copied = match copied {
        Ok(copied) => copied,
        Err(e) => {
            creation.undo();
            return Err(e);
        }
    };
    if ctx.out.json {
        ctx.out.json_line(&serde_json::json!({
            "from": from,
            "to": to,
            "keys": copied.keys,
            "events": copied.events,
        }))?;
    } else {
        let keys = if copied.keys == 1 { "key" } else { "keys" };
        let events = if copied.events == 1 {
            "event"
        } else {
            "events"
        };
        ctx.out.notice(&format!(
            "Copied {} {keys} and {} {events} from {from} to {to}. \
             Point --db, KEYSMITH_DB or db in the configuration file at {to} to use it.",
            copied.keys, copied.events
        ))?;
    }
    Ok(0)
}

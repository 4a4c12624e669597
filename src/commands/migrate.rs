//! `keysmith migrate --to URL|PATH`: copy the whole store into another,
//! empty one, of either kind, in one transaction on the target.

use super::Context;
use crate::cli::MigrateArgs;
use crate::error::{Error, Result, StoreFault};
use crate::store::{self, Location, OpenMode, SqliteStore};

pub fn run(ctx: &mut Context, args: MigrateArgs) -> Result<u8> {
    let source = Location::resolve(ctx.location.as_deref())?;
    let target = Location::parse(&args.to)?;
    let (from, to) = (source.display(), target.display());
    if source == target {
        return Err(Error::Usage(format!(
            "{to} is the store being copied; name another with --to"
        )));
    }
    // As for `backup`: nothing there, or a blank file, is no store (exit 4).
    if let Location::Sqlite(path) = &source
        && !SqliteStore::exists(path)?
    {
        return Err(Error::store(
            StoreFault::Unavailable,
            format!("there is no store at {from}: nothing to migrate"),
        ));
    }
    let mut from_store = ctx.open(OpenMode::NoCreate)?;
    // A file this command creates is removed again if the copy fails.
    let created = match &target {
        Location::Sqlite(path) if !path.exists() => Some(path.clone()),
        _ => None,
    };
    let copied = store::open(&target, OpenMode::Create).and_then(|mut to| {
        for warning in &to.warnings {
            ctx.out.notice(&format!("warning: {warning}"))?;
        }
        store::copy(from_store.as_mut(), to.store.as_mut())
    });
    let copied = match copied {
        Ok(copied) => copied,
        Err(e) => {
            if let Some(path) = created {
                store::backup::remove_sqlite_files(&path);
            }
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
             Point --db or KEYSMITH_DB at {to} to use it.",
            copied.keys, copied.events
        ))?;
    }
    Ok(0)
}

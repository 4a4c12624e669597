//! `keysmith history`: the event log, newest first, for the store or one key.

use clap::Args;
use std::collections::HashMap;

use super::{Context, resolve};
use crate::error::{Error, Result};
use crate::help::examples;
use crate::input::{Action, Duration};
use crate::key_format;
use crate::output::{EventJson, notice};
use crate::store::{self, EventFilter, KeyFilter, OpenMode, Store};
use crate::table::event_rows::event_table;
use crate::time;

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith history --limit 20",
    r#"keysmith history "billing webhook""#,
    "keysmith history --action rotate --action delete --since 7d",
))]
pub struct HistoryArgs {
    /// Only this key's events (an id also works for a deleted key)
    #[arg(value_name = "KEY", add = crate::complete::candidates::keys(None))]
    pub key: Option<String>,

    /// At most this many events
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,

    /// Only events of this action (repeatable): create, enable, disable,
    /// edit, rotate, delete
    #[arg(long, value_name = "ACTION")]
    pub action: Vec<Action>,

    /// Only events of the last DURATION, e.g. 1h, 7d
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub since: Option<Duration>,

    /// Only this owner's events: its keys' while they were its
    #[arg(long, value_name = "ID", conflicts_with = "key")]
    pub owner: Option<crate::input::Owner>,
}

pub fn run(ctx: &mut Context, args: HistoryArgs) -> Result<u8> {
    let actions: Vec<String> = args.action.into_iter().map(String::from).collect();
    let since = args.since.map(|d| time::now() - d.seconds());
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let key_id = match args.key.as_deref() {
        None => None,
        Some(selector) => Some(key_id(store.as_mut(), selector)?),
    };
    let owner = args.owner.map(String::from);
    let filter = EventFilter {
        key_id: key_id.as_deref(),
        owner: owner.as_deref(),
        limit: args.limit,
        actions: &actions,
        since,
    };
    let filtered = !actions.is_empty() || since.is_some() || owner.is_some();
    let mut count = 0u64;
    if ctx.out.json {
        let out = &mut ctx.out;
        store.events(&filter, &mut |event| {
            out.array_element(count, &EventJson::new(&event))?;
            count += 1;
            Ok(())
        })?;
        out.array_end(count)?;
        return Ok(0);
    }
    // Names are looked up while the events are read: on a connection of
    // their own, as the first is busy reading.
    let choice = ctx.choose()?;
    let mut names = Names {
        store: store::open(&choice.location, OpenMode::NoCreate)?.store,
        known: HashMap::new(),
        loaded: false,
    };
    let out = &mut ctx.out;
    let mut table = event_table(true, out.fit());
    out.page()?;
    store.events(&filter, &mut |event| {
        let name = match &event.key_id {
            Some(id) => names.of(id)?,
            None => None,
        };
        count += 1;
        table
            .push(&(event, name), out.writer())
            .map_err(Error::output)
    })?;
    table.finish(out.writer()).map_err(Error::output)?;
    if count == 0 {
        out.flush()?;
        notice(if filtered {
            "No events match these filters."
        } else {
            "No events yet."
        });
    }
    Ok(0)
}

/// The current name of each key, by id, as the events name them; a deleted
/// key has none. A few keys are looked up one by one; past `LOOKUPS`, one
/// pass over the keys costs less than a lookup per key, and holds no more
/// than a name per key, whatever the number of events.
struct Names {
    store: Box<dyn Store>,
    known: HashMap<String, Option<String>>,
    /// Whether the pass over every key was made.
    loaded: bool,
}

impl Names {
    const LOOKUPS: usize = 64;

    fn of(&mut self, id: &str) -> Result<Option<String>> {
        if let Some(name) = self.known.get(id) {
            return Ok(name.clone());
        }
        if self.known.len() >= Self::LOOKUPS && !self.loaded {
            self.loaded = true;
            let every_key = KeyFilter {
                now: time::now(),
                ..KeyFilter::default()
            };
            let known = &mut self.known;
            self.store.list_keys(&every_key, &mut |key| {
                known.insert(key.id.clone(), Some(key.name.clone()));
                Ok(())
            })?;
            if let Some(name) = self.known.get(id) {
                return Ok(name.clone());
            }
        }
        // Deleted, or made after the pass.
        let name = self.store.key_by_id(id)?.map(|key| key.name);
        self.known.insert(id.to_owned(), name.clone());
        Ok(name)
    }
}

/// A deleted key can no longer be selected by name, but its id (or the full
/// key) still names its history.
fn key_id(store: &mut dyn Store, selector: &str) -> Result<String> {
    match resolve(store, selector) {
        Ok(key) => Ok(key.id),
        Err(Error::NoSuchKey(message)) => {
            let id = key_format::parse(selector)
                .map(|k| k.id)
                .or_else(|| key_format::is_id_shaped(selector).then(|| selector.to_owned()));
            let mut found = false;
            if let Some(id) = &id {
                let first = EventFilter {
                    limit: Some(1),
                    ..EventFilter::of_key(id)
                };
                store.events(&first, &mut |_| {
                    found = true;
                    Ok(())
                })?;
            }
            match id {
                Some(id) if found => Ok(id),
                _ => Err(Error::NoSuchKey(message)),
            }
        }
        Err(e) => Err(e),
    }
}

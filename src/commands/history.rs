//! `keysmith history`: the event log, newest first, for the store or one key.

use std::collections::{HashMap, HashSet};

use super::{Context, resolve};
use crate::cli::HistoryArgs;
use crate::error::{Error, Result};
use crate::input;
use crate::key;
use crate::output::{EventJson, notice};
use crate::store::{EventFilter, KeyFilter, OpenMode, Store};
use crate::time;

pub fn run(ctx: &mut Context, args: HistoryArgs) -> Result<u8> {
    let actions = args
        .action
        .iter()
        .map(|a| input::action(a))
        .collect::<Result<Vec<_>>>()?;
    let since = args
        .since
        .as_deref()
        .map(|d| input::duration("--since", d))
        .transpose()?
        .map(|d| time::now() - d);
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let key_id = match args.key.as_deref() {
        None => None,
        Some(selector) => Some(key_id(store.as_mut(), selector)?),
    };
    let filter = EventFilter {
        key_id: key_id.as_deref(),
        limit: args.limit,
        actions: &actions,
        since,
    };
    let filtered = !actions.is_empty() || since.is_some();
    let out = &mut ctx.out;
    let mut count = 0u64;
    if out.json {
        store.events(&filter, &mut |event| {
            out.array_element(count, &EventJson::new(&event))?;
            count += 1;
            Ok(())
        })?;
        out.array_end(count)?;
    } else {
        let mut events = Vec::new();
        store.events(&filter, &mut |e| {
            events.push(e);
            Ok(())
        })?;
        count = events.len() as u64;
        if count > 0 {
            let names = names_of(store.as_mut(), events.iter().map(|e| e.key_id.as_str()))?;
            out.event_table(&events, Some(&names))?;
        } else if filtered {
            notice("No events match these filters.");
        } else {
            notice("No events yet.");
        }
    }
    Ok(0)
}

/// The current name of each key, by id; a deleted key has none. A few
/// keys are looked up one by one; past that, one pass over the keys costs
/// less than a lookup per key.
fn names_of<'a>(
    store: &mut dyn Store,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, String>> {
    const LOOKUPS: usize = 64;
    let wanted: HashSet<&str> = ids.collect();
    let mut names = HashMap::with_capacity(wanted.len());
    if wanted.len() <= LOOKUPS {
        for id in wanted {
            if let Some(key) = store.key_by_id(id)? {
                names.insert(key.id, key.name);
            }
        }
        return Ok(names);
    }
    let every_key = KeyFilter {
        now: time::now(),
        ..KeyFilter::default()
    };
    store.list_keys(&every_key, &mut |key| {
        if wanted.contains(key.id.as_str()) {
            names.insert(key.id.clone(), key.name.clone());
        }
        Ok(())
    })?;
    Ok(names)
}

/// A deleted key can no longer be selected by name, but its id (or the full
/// key) still names its history.
fn key_id(store: &mut dyn Store, selector: &str) -> Result<String> {
    match resolve(store, selector) {
        Ok(key) => Ok(key.id),
        Err(Error::NoSuchKey(message)) => {
            let id = key::parse(selector)
                .map(|k| k.id)
                .or_else(|| key::is_id_shaped(selector).then(|| selector.to_owned()));
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

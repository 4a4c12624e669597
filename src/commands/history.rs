//! `keysmith history`: the event log, newest first, for the store or one key.

use super::{Context, resolve};
use crate::cli::HistoryArgs;
use crate::error::{Error, Result};
use crate::key;
use crate::output::{EventJson, notice};
use crate::store::{OpenMode, Store};

pub fn run(ctx: &mut Context, args: HistoryArgs) -> Result<u8> {
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let key_id = match args.key.as_deref() {
        None => None,
        Some(selector) => Some(key_id(store.as_mut(), selector)?),
    };
    let out = &mut ctx.out;
    let mut count = 0u64;
    if out.json {
        store.events(key_id.as_deref(), args.limit, &mut |event| {
            out.array_element(count, &EventJson::new(&event))?;
            count += 1;
            Ok(())
        })?;
        out.array_end(count)?;
    } else {
        let mut events = Vec::new();
        store.events(key_id.as_deref(), args.limit, &mut |e| {
            events.push(e);
            Ok(())
        })?;
        count = events.len() as u64;
        if count > 0 {
            out.event_table(&events)?;
        } else if let Some(path) = &ctx.missing {
            notice(&format!("No events yet: there is no store at {path}."));
        } else {
            notice("No events yet.");
        }
    }
    Ok(0)
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
                store.events(Some(id), Some(1), &mut |_| {
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

//! `keysmith show`: every field of one key and its history.

use serde::Serialize;

use super::{Context, resolve};
use crate::cli::SelectArgs;
use crate::error::Result;
use crate::output::{EventJson, KeyJson};
use crate::store::{EventFilter, OpenMode};
use crate::time;

#[derive(Serialize)]
struct ShowJson<'a> {
    #[serde(flatten)]
    key: KeyJson<'a>,
    events: Vec<EventJson<'a>>,
}

pub fn run(ctx: &mut Context, args: SelectArgs) -> Result<u8> {
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let key = resolve(store.as_mut(), &args.key)?;
    let mut events = Vec::new();
    store.events(&EventFilter::of_key(&key.id), &mut |e| {
        events.push(e);
        Ok(())
    })?;
    let now = time::now();
    if ctx.out.json {
        ctx.out.json_line(&ShowJson {
            key: KeyJson::new(&key, now),
            events: events.iter().map(EventJson::new).collect(),
        })?;
    } else {
        ctx.out.key_details(&key, now)?;
        ctx.out.line("")?;
        ctx.out.line("History")?;
        ctx.out.event_table(&events, None)?;
    }
    Ok(0)
}

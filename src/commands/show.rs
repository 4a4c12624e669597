//! `keysmith show`: every field of one key and its history.

use serde::Serialize;

use super::{AnyKey, Context, SelectArgs, resolve};
use crate::error::{Error, Result};
use crate::output::{EventJson, KeyJson};
use crate::store::{EventFilter, OpenMode};
use crate::table::event_rows::event_table;
use crate::time;

#[derive(Serialize)]
struct ShowJson<'a> {
    #[serde(flatten)]
    key: KeyJson<'a>,
    events: Vec<EventJson<'a>>,
}

pub fn run(ctx: &mut Context, args: SelectArgs<AnyKey>) -> Result<u8> {
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let key = resolve(store.as_mut(), &args.key)?;
    let events = EventFilter::of_key(&key.id);
    let now = time::now();
    let out = &mut ctx.out;
    if out.json {
        let mut all = Vec::new();
        store.events(&events, &mut |e| {
            all.push(e);
            Ok(())
        })?;
        out.json_line(&ShowJson {
            key: KeyJson::new(&key, now),
            events: all.iter().map(EventJson::new).collect(),
        })?;
    } else {
        out.page()?;
        out.key_details(&key, now)?;
        out.line("")?;
        out.line("History")?;
        let mut table = event_table(false, out.fit());
        store.events(&events, &mut |event| {
            table
                .push(&(event, None), out.writer())
                .map_err(Error::output)
        })?;
        table.finish(out.writer()).map_err(Error::output)?;
    }
    Ok(0)
}

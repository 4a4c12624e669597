//! `keysmith list`: keys newest first, as a table or a streamed JSON array.

use std::io::IsTerminal;

use super::Context;
use crate::cli::{ListArgs, SortArg, StatusArg};
use crate::error::{Error, Result};
use crate::input;
use crate::output::{KeyJson, notice};
use crate::store::{KeyFilter, KeyOrder, KeyRecord, OpenMode, Status};
use crate::table::key_rows::KeyTable;
use crate::time;

pub fn run(ctx: &mut Context, args: ListArgs) -> Result<u8> {
    let filtered = args.search.is_some()
        || args.service.is_some()
        || args.status.is_some()
        || args.expiring_within.is_some()
        || args.unused_for.is_some();
    let now = time::now();
    let within =
        |flag: &str, d: &Option<String>| d.as_deref().map(|d| input::duration(flag, d)).transpose();
    let filter = KeyFilter {
        service: args.service.as_deref().map(input::service).transpose()?,
        status: args.status.map(|s| match s {
            StatusArg::Enabled => Status::Enabled,
            StatusArg::Disabled => Status::Disabled,
            StatusArg::Expired => Status::Expired,
        }),
        limit: args.limit,
        expiring_by: within("--expiring-within", &args.expiring_within)?.map(|d| now + d),
        unused_since: within("--unused-for", &args.unused_for)?.map(|d| now - d),
        now,
        // Keys about to expire are wanted soonest first.
        order: match args.sort {
            Some(SortArg::Created) => KeyOrder::Newest,
            Some(SortArg::Name) => KeyOrder::Name,
            Some(SortArg::LastUsed) => KeyOrder::LastUsed,
            Some(SortArg::Expires) => KeyOrder::SoonestExpiry,
            None if args.expiring_within.is_some() => KeyOrder::SoonestExpiry,
            None => KeyOrder::Newest,
        },
    };
    // --search is matched here, on what the store lists: the limit then
    // counts the keys that match.
    let search = args.search.as_deref().map(str::to_lowercase);
    let limit = filter.limit;
    let filter = KeyFilter {
        limit: if search.is_some() { None } else { limit },
        ..filter
    };
    let mut matched = 0u64;
    let mut wanted = |key: &KeyRecord| {
        let found = search.as_deref().is_none_or(|text| {
            key.name.to_lowercase().contains(text)
                || key
                    .description
                    .as_deref()
                    .is_some_and(|d| d.to_lowercase().contains(text))
        });
        let keep = found && limit.is_none_or(|n| matched < n);
        matched += u64::from(keep);
        keep
    };
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let out = &mut ctx.out;
    let mut count = 0u64;
    if out.json {
        // Streamed: each row is written as it is read, whatever the store's size.
        store.list_keys(&filter, &mut |key| {
            if wanted(key) {
                out.key_element(count, &KeyJson::new(key, filter.now))?;
                count += 1;
            }
            Ok(())
        })?;
        out.array_end(count)?;
    } else if args.quiet {
        store.list_keys(&filter, &mut |key| {
            if wanted(key) {
                out.line(&key.id)?;
                count += 1;
            }
            Ok(())
        })?;
    } else {
        let mut table = KeyTable::new(out.table_layout(args.wide), filter.now);
        out.page()?;
        store.list_keys(&filter, &mut |key| {
            if wanted(key) {
                table.push(key, out.writer()).map_err(Error::output)?;
            }
            Ok(())
        })?;
        table.finish(out.writer()).map_err(Error::output)?;
        count = table.counts.iter().sum();
        if count > 0 && std::io::stderr().is_terminal() && std::io::stdout().is_terminal() {
            let [enabled, disabled, expired] = table.counts;
            let keys = if count == 1 { "key" } else { "keys" };
            out.notice(&format!(
                "{count} {keys}: {enabled} enabled, {disabled} disabled, {expired} expired"
            ))?;
        }
    }
    if count == 0 && !out.json {
        notice(if filtered {
            "No keys match these filters."
        } else {
            "No keys yet. Create one with: keysmith create --name NAME"
        });
    }
    Ok(if args.exit_code && count > 0 { 1 } else { 0 })
}

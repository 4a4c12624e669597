//! `keysmith list`: keys newest first, as a table or a streamed JSON array.

use clap::{Args, ValueEnum};
use std::io::IsTerminal;

use super::Context;
use crate::error::{Error, Result};
use crate::help::examples;
use crate::input::{Duration, Service};
use crate::output::{KeyJson, notice};
use crate::store::{KeyFilter, KeyOrder, KeyRecord, OpenMode, Status};
use crate::table::key_rows::KeyTable;
use crate::time;

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith list --service billing --status enabled --sort last-used",
    r#"keysmith list --expiring-within 7d --exit-code || echo "keys expire soon""#,
    "keysmith list --search zapier -q | xargs -n1 keysmith disable",
))]
pub struct ListArgs {
    /// Only keys of this service
    #[arg(long, value_name = "SERVICE", add = crate::complete::candidates::services())]
    pub service: Option<Service>,

    /// Only keys of this owner
    #[arg(long, value_name = "ID")]
    pub owner: Option<crate::input::Owner>,

    /// Only keys with this status
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,

    /// At most this many keys
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,

    /// Only keys that expire within this time from now, e.g. 7d
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub expiring_within: Option<Duration>,

    /// Only keys not used for this long (a key never used counts from its creation)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub unused_for: Option<Duration>,

    /// Exit 1 when any key is listed (for cron jobs and alerts)
    #[arg(long)]
    pub exit_code: bool,

    /// Add the other fields: description, use count, expiry, replacement, scopes, uses left, rate limit
    #[arg(long)]
    pub wide: bool,

    /// Only keys whose name or description contains TEXT (any case)
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,

    /// Print only the ids, one per line (for xargs)
    #[arg(short, long, conflicts_with = "wide")]
    pub quiet: bool,

    /// The order: created (newest first), name (A to Z), last-used (most
    /// recent first) or expires (soonest first); --expiring-within sorts by
    /// expires
    #[arg(long, value_enum, value_name = "ORDER")]
    pub sort: Option<SortArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SortArg {
    Created,
    Name,
    LastUsed,
    Expires,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Enabled,
    Disabled,
    Expired,
}

pub fn run(ctx: &mut Context, args: ListArgs) -> Result<u8> {
    let filtered = args.search.is_some()
        || args.service.is_some()
        || args.owner.is_some()
        || args.status.is_some()
        || args.expiring_within.is_some()
        || args.unused_for.is_some();
    let now = time::now();
    let filter = KeyFilter {
        service: args.service.map(String::from),
        status: args.status.map(|s| match s {
            StatusArg::Enabled => Status::Enabled,
            StatusArg::Disabled => Status::Disabled,
            StatusArg::Expired => Status::Expired,
        }),
        limit: args.limit,
        expiring_by: args.expiring_within.map(|d| now + d.seconds()),
        unused_since: args.unused_for.map(|d| now - d.seconds()),
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
        owner: args.owner.map(String::from),
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

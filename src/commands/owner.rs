//! `keysmith owner`: the records of the owners keys belong to
//! (docs/src/owners.md): list, show, set their limits, switch them on and
//! off, delete them.

use clap::{Args, Subcommand};

use super::{Context, change, confirm};
use crate::error::{Error, Result};
use crate::help::examples;
use crate::input::{AllowIp, Owner, Rate, RefillSpec, Uses};
use crate::lifecycle::{self, OwnerDeletion};
use crate::model::{OwnerEdit, OwnerRecord, RateLimit, Refill};
use crate::output::{EventJson, OwnerJson};
use crate::redact::Untrusted;
use crate::store::{EventFilter, OpenMode, Store};
use crate::table::event_rows::event_table;
use crate::table::owner_rows::owner_table;
use crate::time;

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith owner list",
    "keysmith owner set acme --uses 10000 --rate 100/1s",
    "keysmith owner disable acme",
))]
pub struct OwnerArgs {
    #[command(subcommand)]
    pub command: OwnerCommand,
}

#[derive(Debug, Subcommand)]
pub enum OwnerCommand {
    /// List the owners, by id, with their status, keys and limits
    List,
    /// Show an owner's status, limits and history
    Show(OwnerId),
    /// Set an owner's limits, shared by all its keys (makes the owner when new)
    Set(OwnerSetArgs),
    /// Switch an owner on: its keys verify again (as each key's own status allows)
    Enable(OwnerId),
    /// Switch an owner off: every key of it is refused, DISABLED, until enabled
    Disable(OwnerId),
    /// Remove an owner without keys (its history stays)
    Delete(OwnerDeleteArgs),
}

#[derive(Debug, Args)]
pub struct OwnerId {
    /// The owner's id, e.g. acme
    #[arg(value_name = "ID")]
    pub id: Owner,
}

#[derive(Debug, Args)]
pub struct OwnerSetArgs {
    /// The owner's id, e.g. acme
    #[arg(value_name = "ID")]
    pub id: Owner,

    /// Allow its keys this many VALID verifications in all, then USAGE_EXCEEDED
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub uses: Option<Uses>,

    /// Remove the limit of uses
    #[arg(long, conflicts_with = "uses")]
    pub unlimited_uses: bool,

    /// At most N VALID answers in any DURATION for all its keys together, e.g. 100/1s
    #[arg(long, value_name = "N/DURATION")]
    pub rate: Option<Rate>,

    /// Remove the rate limit
    #[arg(long, conflicts_with = "rate")]
    pub no_rate: bool,

    /// Give the uses back to --uses N at each period's start (UTC): daily,
    /// weekly, monthly, monthly:DAY, or a duration such as 12h
    #[arg(long, value_name = "SCHEDULE", requires = "uses")]
    pub refill: Option<RefillSpec>,

    /// Stop refilling the uses
    #[arg(long, conflicts_with = "refill")]
    pub no_refill: bool,

    /// Allow its keys only from these addresses or CIDR ranges (repeatable),
    /// replacing its rules
    #[arg(long = "allow-ip", value_name = "CIDR")]
    pub allow_ip: Vec<AllowIp>,

    /// Remove every IP rule of the owner
    #[arg(long, conflicts_with = "allow_ip")]
    pub no_allow_ip: bool,
}

#[derive(Debug, Args)]
pub struct OwnerDeleteArgs {
    /// The owner's id, e.g. acme
    #[arg(value_name = "ID")]
    pub id: Owner,

    /// Do not ask for confirmation
    #[arg(long, short)]
    pub yes: bool,
}

pub fn run(ctx: &mut Context, args: OwnerArgs) -> Result<u8> {
    match args.command {
        OwnerCommand::List => list(ctx),
        OwnerCommand::Show(OwnerId { id }) => show(ctx, id.as_str()),
        OwnerCommand::Set(args) => set(ctx, args),
        OwnerCommand::Enable(OwnerId { id }) => switch(ctx, id.as_str(), false),
        OwnerCommand::Disable(OwnerId { id }) => switch(ctx, id.as_str(), true),
        OwnerCommand::Delete(args) => delete(ctx, args),
    }
}

fn no_such_owner(id: &str) -> Error {
    Error::NoSuchKey(format!(
        "no owner {}: `keysmith owner list` shows them (an owner is made with its first key, or by \
         `keysmith owner set`)",
        Untrusted(id)
    ))
}

fn found(store: &mut dyn Store, id: &str) -> Result<OwnerRecord> {
    store.owner(id)?.ok_or_else(|| no_such_owner(id))
}

fn list(ctx: &mut Context) -> Result<u8> {
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let out = &mut ctx.out;
    let mut count = 0u64;
    if out.json {
        store.list_owners(&mut |owner| {
            out.array_element(count, &OwnerJson::new(owner, time::now()))?;
            count += 1;
            Ok(())
        })?;
        out.array_end(count)?;
        return Ok(0);
    }
    let mut table = owner_table(out.fit(), out.color());
    store.list_owners(&mut |owner| {
        count += 1;
        table.push(owner, out.writer()).map_err(Error::output)
    })?;
    table.finish(out.writer()).map_err(Error::output)?;
    if count == 0 {
        out.notice("No owners yet: a key's --owner makes one, as does `keysmith owner set ID`.")?;
    }
    Ok(0)
}

/// Every field of an owner, one per line.
fn details(ctx: &mut Context, owner: &OwnerRecord) -> Result<()> {
    let rows = [
        ("Owner", Untrusted(&owner.id).to_string()),
        ("Status", owner.status().as_str().to_owned()),
        ("Created", time::local_minutes(owner.created_at)),
        ("Keys", owner.keys.to_string()),
        (
            "Uses left",
            owner
                .limits
                .uses_left_at(time::now())
                .map_or("unlimited".to_owned(), |n| n.to_string()),
        ),
        (
            "Refill",
            crate::output::refill_words(&owner.limits, time::now()),
        ),
        ("Allowed IPs", crate::output::ip_words(&owner.limits)),
        (
            "Rate limit",
            owner.limits.rate.map_or("-".to_owned(), RateLimit::display),
        ),
    ];
    for (label, value) in rows {
        ctx.out.line(&format!("{label:<13} {value}"))?;
    }
    Ok(())
}

fn show(ctx: &mut Context, id: &str) -> Result<u8> {
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let owner = found(store.as_mut(), id)?;
    let events = EventFilter {
        owner: Some(id),
        ..EventFilter::default()
    };
    if ctx.out.json {
        #[derive(serde::Serialize)]
        struct ShowJson<'a> {
            #[serde(flatten)]
            owner: OwnerJson<'a>,
            events: Vec<EventJson<'a>>,
        }
        let mut all = Vec::new();
        store.events(&events, &mut |e| {
            all.push(e);
            Ok(())
        })?;
        ctx.out.json_line(&ShowJson {
            owner: OwnerJson::new(&owner, time::now()),
            events: all.iter().map(EventJson::new).collect(),
        })?;
        return Ok(0);
    }
    ctx.out.page()?;
    details(ctx, &owner)?;
    let out = &mut ctx.out;
    out.line("")?;
    out.line("History")?;
    let mut table = event_table(false, out.fit());
    store.events(&events, &mut |event| {
        table
            .push(&(event, None), out.writer())
            .map_err(Error::output)
    })?;
    table.finish(out.writer()).map_err(Error::output)?;
    Ok(0)
}

fn set(ctx: &mut Context, args: OwnerSetArgs) -> Result<u8> {
    let edit = OwnerEdit {
        remaining_uses: match (args.uses, args.unlimited_uses) {
            (Some(n), _) => Some(Some(n.0)),
            (None, true) => Some(None),
            (None, false) => None,
        },
        rate: match (args.rate, args.no_rate) {
            (Some(r), _) => Some(Some(r.0)),
            (None, true) => Some(None),
            (None, false) => None,
        },
        refill: match (args.refill.zip(args.uses), args.no_refill) {
            (Some((every, uses)), _) => Some(Some(Refill::new(every.0, uses.0, time::now()))),
            (None, true) => Some(None),
            (None, false) => None,
        },
        allow_ip: match (args.allow_ip.is_empty(), args.no_allow_ip) {
            (false, _) => Some(crate::input::ip_rules(args.allow_ip)?),
            (true, true) => Some(Vec::new()),
            (true, false) => None,
        },
    };
    if edit == OwnerEdit::default() {
        return Err(Error::Usage(
            "nothing to set: pass --uses, --unlimited-uses, --rate, --no-rate, --refill, \
             --no-refill, --allow-ip or --no-allow-ip"
                .into(),
        ));
    }
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let id = args.id.as_str();
    let (owner, fields) = lifecycle::set_owner(store.as_mut(), id, &edit, change(time::now()))?;
    if ctx.out.json {
        return ctx
            .out
            .json_line(&OwnerJson::new(&owner, time::now()))
            .map(|()| 0);
    }
    let message = if fields.is_empty() {
        format!("Owner {} already had these limits.", Untrusted(id))
    } else {
        format!("Set owner {}: {}.", Untrusted(id), fields.join(", "))
    };
    ctx.out.line(&message)?;
    Ok(0)
}

fn switch(ctx: &mut Context, id: &str, disable: bool) -> Result<u8> {
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let (owner, changed) =
        lifecycle::set_owner_disabled(store.as_mut(), id, disable, change(time::now()))?
            .ok_or_else(|| no_such_owner(id))?;
    if ctx.out.json {
        return ctx
            .out
            .json_line(&OwnerJson::new(&owner, time::now()))
            .map(|()| 0);
    }
    let shown = Untrusted(id);
    let status = owner.status().as_str();
    let message = match (changed, disable) {
        (false, _) => format!("Owner {shown} was already {status}."),
        (true, true) => format!(
            "Owner {shown} is now disabled: its {} keys are refused (DISABLED) until \
             `keysmith owner enable {shown}`; no key's own status changed.",
            owner.keys
        ),
        (true, false) => format!(
            "Owner {shown} is now enabled: its {} keys verify again, as each key's own status \
             allows.",
            owner.keys
        ),
    };
    ctx.out.line(&message)?;
    Ok(0)
}

fn delete(ctx: &mut Context, args: OwnerDeleteArgs) -> Result<u8> {
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let id = args.id.as_str();
    let owner = found(store.as_mut(), id)?;
    let shown = Untrusted(id);
    if owner.keys == 0 {
        confirm(
            args.yes,
            &format!("Owner {shown} has no keys; its limits go with it, its history stays."),
            &format!("Delete owner {shown}?"),
        )?;
    }
    match lifecycle::delete_owner(store.as_mut(), id, change(time::now()))? {
        OwnerDeletion::NoSuchOwner => Err(no_such_owner(id)),
        OwnerDeletion::HasKeys(n) => Err(Error::Usage(format!(
            "owner {shown} still has {n} keys: delete them, or give them another owner \
             (keysmith edit KEY --owner ID, or --no-owner), first; \
             keysmith list --owner {shown} shows them"
        ))),
        OwnerDeletion::Deleted(owner) => {
            if ctx.out.json {
                return ctx
                    .out
                    .json_line(&OwnerJson::new(&owner, time::now()))
                    .map(|()| 0);
            }
            ctx.out.line(&format!("Deleted owner {shown}."))?;
            Ok(0)
        }
    }
}

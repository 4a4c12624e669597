//! `keysmith create`: mint one key, store its hash durably, then show it once.

use clap::Args;
use std::str::FromStr;

use zeroize::Zeroizing;

mod from;

use super::{Context, OwnedArgs, change, describe, meta_given};
use crate::clipboard::ClipboardCopy;
use crate::error::{Error, Result, StoreFault};
use crate::help::examples;
use crate::input::{
    self, AllowIp, Description, Duration, Invalid, Name, Prefix, Rate, RefillSpec, Scope, Service,
    Uses,
};
use crate::key_format::MintedKey;
use crate::lifecycle;
use crate::model::{KeyRecord, Limits, NewKey, Refill, Timestamp};
use crate::output::{KeyJson, Output};
use crate::prompt;
use crate::redact::Untrusted;
use crate::store::{OpenMode, Store};
use crate::time;

#[derive(Debug, Args)]
#[command(after_help = examples!(
    r#"keysmith create --name "billing webhook" --service billing --expires-in 90d"#,
    "KEY=$(keysmith create --name ci --expires-in 30d)",
    "keysmith create --from keys.jsonl > created.jsonl",
))]
pub struct CreateArgs {
    /// What the key is for (required unless prompted on a terminal)
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub name: Option<Name>,

    /// A longer note about the key
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub description: Option<Description>,

    /// The service the key belongs to, e.g. sms
    #[arg(long, value_name = "SERVICE", allow_hyphen_values = true, add = crate::complete::candidates::services())]
    pub service: Option<Service>,

    /// The key's prefix
    #[arg(long, env = "KEYSMITH_PREFIX", hide_env_values = true, default_value = crate::key_format::DEFAULT_PREFIX, value_name = "PREFIX")]
    pub prefix: Prefix,

    /// Make the key expire after this long, e.g. 30d, 12h, 1d12h
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub expires_in: Option<Duration>,

    /// Grant this scope (repeatable), e.g. sms:send, or sms:* for every sms: scope
    #[arg(long = "scope", value_name = "SCOPE", allow_hyphen_values = true)]
    pub scope: Vec<Scope>,

    /// Allow this many VALID verifications, then USAGE_EXCEEDED
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub uses: Option<Uses>,

    /// At most N VALID answers in any DURATION, in each `serve`, e.g. 100/1m
    #[arg(long, value_name = "N/DURATION")]
    pub rate: Option<Rate>,

    /// Give the uses back to --uses N at each period's start (UTC): daily,
    /// weekly, monthly, monthly:DAY, or a duration such as 12h
    #[arg(long, value_name = "SCHEDULE", requires = "uses")]
    pub refill: Option<RefillSpec>,

    /// Allow the key only from this address or CIDR range (repeatable),
    /// e.g. 203.0.113.0/24: IP_NOT_ALLOWED from elsewhere
    #[arg(long = "allow-ip", value_name = "CIDR")]
    pub allow_ip: Vec<AllowIp>,

    #[command(flatten)]
    pub owned: OwnedArgs,

    /// Skip the confirmation prompt (asked only when prompting, without --name)
    #[arg(long, short)]
    pub yes: bool,

    /// Put the key on the clipboard instead of printing it (cleared after
    /// $KEYSMITH_CLIP_TIME seconds, 45 by default)
    #[arg(long, short = 'c')]
    pub copy: bool,

    /// Create one key per line of this JSON Lines file (`-`: stdin), all or
    /// nothing; prints one JSON line per key, with the full key
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["name", "description", "service", "expires_in", "scope", "uses", "rate", "refill", "allow_ip", "owner", "meta", "meta_file", "copy"]
    )]
    pub from: Option<std::path::PathBuf>,
}

pub fn run(ctx: &mut Context, args: CreateArgs) -> Result<u8> {
    crate::harden::no_core_dumps();
    if let Some(source) = &args.from {
        return from::run(ctx, source, &args.prefix);
    }
    // Flags are checked before any prompt, so nobody answers questions in vain.
    let copy = args
        .copy
        .then(|| ClipboardCopy::prepare(ctx.out.json))
        .transpose()?;
    let description = args.description.and_then(Description::into_text);
    let service = args.service.map(String::from);
    let prefix = String::from(args.prefix);
    let expires_in = args.expires_in.map(Duration::seconds);
    let limits = Limits {
        scopes: input::key_scopes(args.scope)?,
        remaining_uses: args.uses.map(|n| n.0),
        rate: args.rate.map(|r| r.0),
        refill: args
            .refill
            .zip(args.uses)
            .map(|(every, uses)| Refill::new(every.0, uses.0, time::now())),
        allow_ip: input::ip_rules(args.allow_ip)?,
    };
    let owner = args.owned.owner.map(String::from);
    let meta = meta_given(args.owned.meta, args.owned.meta_file.as_deref())?;
    let named_by_flag = args.name.is_some();
    let spec = match args.name {
        Some(name) => NewKey {
            name: name.into(),
            description,
            service,
            prefix,
            expires_in,
            limits,
            owner,
            meta,
        },
        None if prompt::can_prompt() => {
            let given = NewKey {
                name: String::new(),
                description,
                service,
                prefix,
                expires_in,
                limits,
                owner,
                meta,
            };
            ask(ctx, given, args.yes)?
        }
        None => {
            return Err(Error::Usage(
                "a name is required: pass --name NAME (prompting needs a terminal)".into(),
            ));
        }
    };

    if copy.is_none() {
        ctx.out.refuse_unread_stdout()?;
    }
    let mut store = ctx.open(OpenMode::Create)?;
    if named_by_flag {
        warn_of_namesakes(&mut ctx.out, store.as_mut(), &spec.name)?;
    }
    let now = time::now();
    let (minted, record) = lifecycle::create(store.as_mut(), &spec, change(now))?;
    let what = format!("Created key {}", describe(&record));
    let new = NewKeyShown {
        minted: &minted,
        record: &record,
        now,
        what: &what,
        copy: copy.as_ref(),
    };
    show_new_key(ctx, store.as_mut(), &new, None)?;
    Ok(0)
}

/// Warns when keys are already named `name`, with their ids: a shared
/// name cannot select a key (docs/src/conventions.md), so it is said when it is made.
pub(super) fn warn_of_namesakes(out: &mut Output, store: &mut dyn Store, name: &str) -> Result<()> {
    let namesakes = store.keys_by_name(name)?;
    if namesakes.is_empty() {
        return Ok(());
    }
    out.notice(&format!(
        "warning: {}",
        namesakes_note(name, namesakes.iter().map(|k| k.id.as_str()))
    ))
}

/// "a key is already named ..." for `warn_of_namesakes` and `create --from`.
pub(super) fn namesakes_note<'a>(
    name: &str,
    ids: impl ExactSizeIterator<Item = &'a str>,
) -> String {
    let count = match ids.len() {
        1 => "a key is".to_owned(),
        n => format!("{n} keys are"),
    };
    let ids: Vec<String> = ids.map(|id| Untrusted(id).to_string()).collect();
    format!(
        "{count} already named \"{}\" ({}): select keys of a shared name by id",
        Untrusted(name),
        ids.join(", ")
    )
}

/// Asks at the terminal for what the flags left out (Enter skips the
/// optional ones), warns when the name is already used, shows a summary
/// and, unless `--yes`, asks to confirm it.
fn ask(ctx: &mut Context, mut key: NewKey, yes: bool) -> Result<NewKey> {
    key.name = prompt::text("Name", false, answer::<Name>("name"))?.into();
    // A store still to be made has no namesakes.
    match ctx.open(OpenMode::NoCreate) {
        Ok(mut store) => warn_of_namesakes(&mut ctx.out, store.as_mut(), &key.name)?,
        Err(e) if e.store_fault() == Some(StoreFault::Missing) => {}
        Err(e) => return Err(e),
    }
    if key.description.is_none() {
        key.description = prompt::text(
            "Description (optional)",
            true,
            answer::<Description>("description"),
        )?
        .into_text();
    }
    if key.service.is_none() {
        key.service = prompt::text(
            "Service (optional, e.g. sms)",
            true,
            skippable(answer::<Service>("service")),
        )?
        .map(String::from);
    }
    if key.expires_in.is_none() {
        key.expires_in = prompt::text(
            "Expires in (optional, e.g. 30d; Enter: never)",
            true,
            skippable(answer::<Duration>("expiry")),
        )?
        .map(Duration::seconds);
    }
    let now = time::now();
    let optional_text = |v: &Option<String>| Untrusted::or(v.as_deref(), "-").to_string();
    let expires = key
        .expires_in
        .map_or("never".to_owned(), |secs| time::local_minutes(now + secs));
    let mut summary = vec![
        ("Name", Untrusted(&key.name).to_string()),
        ("Description", optional_text(&key.description)),
        ("Service", optional_text(&key.service)),
        ("Prefix", Untrusted(&key.prefix).to_string()),
        ("Expires", expires),
    ];
    if !key.limits.scopes.is_empty() {
        summary.push((
            "Scopes",
            Untrusted(&key.limits.scopes.join(", ")).to_string(),
        ));
    }
    if let Some(uses) = key.limits.remaining_uses {
        summary.push(("Uses", uses.to_string()));
    }
    if let Some(rate) = key.limits.rate {
        summary.push(("Rate limit", rate.display()));
    }
    for (label, value) in summary {
        ctx.out.notice(&format!("  {label:<12} {value}"))?;
    }
    if !yes && !prompt::confirm("Create this key?", true)? {
        return Err(Error::Declined);
    }
    Ok(key)
}

/// An answer read by rule `T`, named `field` where the rule is named by
/// its source (docs/src/input-rules.md: prompts take what flags take).
fn answer<T: FromStr<Err = Invalid>>(field: &'static str) -> impl Fn(&str) -> Result<T> {
    move |raw| raw.parse().map_err(|e: Invalid| e.or_field(field).into())
}

/// An optional answer: empty is `None`, anything else must pass `check`.
fn skippable<T>(check: impl Fn(&str) -> Result<T>) -> impl Fn(&str) -> Result<Option<T>> {
    move |raw| match raw.trim() {
        "" => Ok(None),
        _ => check(raw).map(Some),
    }
}

/// A key that was just committed, and how to hand it over.
pub struct NewKeyShown<'a> {
    pub minted: &'a MintedKey,
    pub record: &'a KeyRecord,
    pub now: Timestamp,
    /// What was done, for the notice: "Created key ...".
    pub what: &'a str,
    /// To the clipboard instead of stdout.
    pub copy: Option<&'a ClipboardCopy>,
}

/// Hands over a key that was just committed: the key alone on stdout (or
/// the key object with `key`), or onto the clipboard with `--copy`, and on
/// stderr that this is the only time it is shown.
///
/// When it cannot be handed over (a closed pipe, a full disk, no
/// clipboard), nobody received it, so it must not stay live (docs/src/security.md): the
/// key is taken back in a new transaction (for a rotation, `rotated` is the
/// old key as it was before, and gets that state back), and the error names
/// what was undone.
pub fn show_new_key(
    ctx: &mut Context,
    store: &mut dyn Store,
    new: &NewKeyShown<'_>,
    rotated: Option<&KeyRecord>,
) -> Result<()> {
    let NewKeyShown {
        minted,
        record,
        now,
        what,
        copy,
    } = *new;
    if let Some(mut copy) = copy.copied() {
        if let Err(failure) = copy.put(minted.secret.expose()) {
            return Err(take_back(store, record, rotated, now, &failure));
        }
        return ctx.out.notice(&format!("{what}. {}.", copy.describe()));
    }
    let mut line = Zeroizing::new(Vec::with_capacity(512));
    if ctx.out.json {
        KeyJson::new(record, now)
            .with_secret(&minted.secret)
            .write_to(&mut *line)
            .map_err(Error::output)?;
    } else {
        line.extend_from_slice(minted.secret.expose().as_bytes());
    }
    line.push(b'\n');
    if let (_, Some(failure)) = ctx.out.deliver(&line) {
        return Err(take_back(store, record, rotated, now, &failure));
    }
    ctx.out.notice(&format!(
        "{what}. This is the only time the full key is shown: store it now."
    ))
}

/// Undoes the creation (or rotation) of `new`, which could not be delivered.
fn take_back(
    store: &mut dyn Store,
    new: &KeyRecord,
    rotated: Option<&KeyRecord>,
    now: Timestamp,
    failure: &std::io::Error,
) -> Error {
    let undone = lifecycle::take_back(store, &[new.id.as_str()], rotated, change(now));
    let done = match (rotated, undone) {
        (None, Ok(_)) => format!("key {} was removed, as nobody received it", new.id),
        (Some(old), Ok(_)) => format!(
            "the rotation of key {} was undone: the new key {} was removed and {} is as it was",
            old.id, new.id, old.id
        ),
        (None, Err(e)) => format!(
            "removing key {} failed too ({e}): switch it off with `keysmith disable {}`",
            new.id, new.id
        ),
        (Some(old), Err(e)) => format!(
            "undoing the rotation of key {} failed too ({e}): switch the new key off with \
             `keysmith disable {}`",
            old.id, new.id
        ),
    };
    Error::Undelivered(format!("cannot write the new key: {failure}; {done}"))
}

//! `keysmith create`: mint one key, store its hash durably, then show it once.

use super::{Context, describe, event};
use crate::cli::CreateArgs;
use crate::error::{Error, Result};
use crate::input::{self, NewKey};
use crate::key::{self, MintedKey};
use crate::output::{KeyJson, Untrusted};
use crate::prompt;
use crate::store::{KeyRecord, OpenMode, Store, Timestamp};
use crate::time;

pub fn run(ctx: &mut Context, args: CreateArgs) -> Result<u8> {
    if let Some(source) = &args.from {
        return super::bulk::run(ctx, source, &args.prefix);
    }
    // Flags are checked before any prompt, so nobody answers questions in vain.
    let description = args
        .description
        .as_deref()
        .map(input::description)
        .transpose()?
        .flatten();
    let service = args.service.as_deref().map(input::service).transpose()?;
    let prefix = input::prefix(&args.prefix)?;
    let expires_in = args
        .expires_in
        .as_deref()
        .map(|d| input::duration("--expires-in", d))
        .transpose()?;
    let spec = match args.name.as_deref() {
        Some(name) => NewKey {
            name: input::name(name)?,
            description,
            service,
            prefix,
            expires_in,
        },
        None if prompt::can_prompt() => {
            let name = prompt::text("Name", false, input::name)?;
            let description = match description {
                Some(d) => Some(d),
                None => prompt::text("Description (optional)", true, input::description)?,
            };
            if !args.yes
                && !prompt::confirm(&format!("Create key \"{}\"?", Untrusted(&name)), true)?
            {
                return Err(Error::Declined);
            }
            NewKey {
                name,
                description,
                service,
                prefix,
                expires_in,
            }
        }
        None => {
            return Err(Error::Usage(
                "a name is required: pass --name NAME (prompting needs a terminal)".into(),
            ));
        }
    };

    let mut store = ctx.open(OpenMode::Create)?;
    let now = time::now();
    let (minted, record) = insert_new_key(store.as_mut(), &spec, now)?;
    if ctx.out.json {
        ctx.out
            .json_line(&KeyJson::new(&record, now).with_secret(&minted.secret))?;
    } else {
        ctx.out.line(minted.secret.expose())?;
    }
    ctx.out.notice(&format!(
        "Created key {}. This is the only time the full key is shown: store it now.",
        describe(&record)
    ))?;
    Ok(0)
}

/// Mints a key for `spec` and commits it (hash only) with its `create` event.
/// A fresh id is drawn in the astronomically unlikely case of a collision.
pub fn insert_new_key(
    store: &mut dyn Store,
    spec: &NewKey,
    now: Timestamp,
) -> Result<(MintedKey, KeyRecord)> {
    for _ in 0..MINT_ATTEMPTS {
        let (minted, record) = mint_record(spec, now);
        if store.insert_key(&record, &event("create", &record.id, now, None))? {
            return Ok((minted, record));
        }
    }
    Err(id_space_exhausted())
}

/// How often a colliding id is redrawn before the store is suspected.
pub const MINT_ATTEMPTS: usize = 8;

pub fn id_space_exhausted() -> Error {
    Error::Store("could not find a free key id after 8 tries; the store may be damaged".into())
}

/// A freshly minted key and the record that stores it.
pub fn mint_record(spec: &NewKey, now: Timestamp) -> (MintedKey, KeyRecord) {
    let minted = key::mint(&spec.prefix);
    let record = key_record(spec, &minted, now);
    (minted, record)
}

/// The record that stores `minted`, a key made for `spec`.
pub fn key_record(spec: &NewKey, minted: &MintedKey, now: Timestamp) -> KeyRecord {
    KeyRecord {
        id: minted.id.clone(),
        hash: minted.hash,
        prefix: spec.prefix.clone(),
        name: spec.name.clone(),
        description: spec.description.clone(),
        service: spec.service.clone(),
        disabled: false,
        created_at: now,
        expires_at: spec.expires_in.map(|secs| now + secs),
        last_used_at: None,
        use_count: 0,
        rotated_from: None,
        replaced_by: None,
        seq: 0,
    }
}

/// Prints a key that was just committed: the key alone on stdout (or the key
/// object with `key`), and on stderr that this is the only time it is shown.
pub fn show_new_key(
    ctx: &mut Context,
    minted: &MintedKey,
    record: &KeyRecord,
    now: Timestamp,
    what: &str,
) -> Result<()> {
    if ctx.out.json {
        ctx.out
            .json_line(&KeyJson::new(record, now).with_secret(&minted.secret))?;
    } else {
        ctx.out.line(minted.secret.expose())?;
    }
    ctx.out.notice(&format!(
        "{what}. This is the only time the full key is shown: store it now."
    ))
}

//! `keysmith edit`: change a key's name, description, service, expiry or limits.

use super::{Context, change, describe, resolve};
use crate::cli::EditArgs;
use crate::error::{Error, Result};
use crate::input;
use crate::lifecycle::{self, Changed};
use crate::model::KeyEdit;
use crate::output::KeyJson;
use crate::redact::Untrusted;
use crate::store::OpenMode;
use crate::time;

pub fn run(ctx: &mut Context, args: EditArgs) -> Result<u8> {
    let now = time::now();
    let edit = KeyEdit {
        name: args.name.as_deref().map(input::name).transpose()?,
        description: args
            .description
            .as_deref()
            .map(input::description)
            .transpose()?,
        service: match (args.service.as_deref(), args.no_service) {
            (Some(s), _) => Some(Some(input::service(s)?)),
            (None, true) => Some(None),
            (None, false) => None,
        },
        expires_at: match (args.expires_in.as_deref(), args.no_expiry) {
            (Some(d), _) => Some(Some(now + input::duration("--expires-in", d)?)),
            (None, true) => Some(None),
            (None, false) => None,
        },
        scopes: match (args.scope.is_empty(), args.no_scopes) {
            (false, _) => Some(input::scopes(&args.scope)?),
            (true, true) => Some(Vec::new()),
            (true, false) => None,
        },
        remaining_uses: match (args.uses.as_deref(), args.unlimited_uses) {
            (Some(n), _) => Some(Some(input::uses("--uses", n)?)),
            (None, true) => Some(None),
            (None, false) => None,
        },
        rate: match (args.rate.as_deref(), args.no_rate) {
            (Some(r), _) => Some(Some(input::rate("--rate", r)?)),
            (None, true) => Some(None),
            (None, false) => None,
        },
    };
    if edit == KeyEdit::default() {
        return Err(Error::Usage(
            "nothing to change: pass --name, --description, --service, --no-service, --expires-in, \
             --no-expiry, --scope, --no-scopes, --uses, --unlimited-uses, --rate or --no-rate"
                .into(),
        ));
    }
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let key = resolve(store.as_mut(), &args.key)?;
    let (Changed { key, changed }, changed_fields) =
        lifecycle::edit(store.as_mut(), &key.id, &edit, change(now))?.ok_or_else(|| {
            Error::NoSuchKey(format!("key {} was deleted meanwhile", Untrusted(&key.id)))
        })?;
    if ctx.out.json {
        ctx.out.json_line(&KeyJson::new(&key, now))?;
    } else if changed {
        ctx.out.line(&format!(
            "Updated key {}: {}.",
            describe(&key),
            changed_fields.join(", ")
        ))?;
    } else {
        ctx.out.line(&format!(
            "Key {} already had these values; nothing changed.",
            describe(&key)
        ))?;
    }
    Ok(0)
}

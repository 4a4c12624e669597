//! `keysmith enable` / `keysmith disable`: switch a key on or off.

use super::{Context, Offered, SelectArgs, change, describe, resolve};
use crate::error::{Error, Result};
use crate::lifecycle::{self, Changed};
use crate::output::KeyJson;
use crate::redact::Untrusted;
use crate::store::{OpenMode, Status};
use crate::time;

pub fn run<O: Offered>(ctx: &mut Context, args: SelectArgs<O>, disable: bool) -> Result<u8> {
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let key = resolve(store.as_mut(), &args.key)?;
    let now = time::now();
    let action = if disable { "disable" } else { "enable" };
    let Changed { key, changed } =
        lifecycle::set_disabled(store.as_mut(), &key.id, disable, change(now))?.ok_or_else(
            || Error::NoSuchKey(format!("key {} was deleted meanwhile", Untrusted(&key.id))),
        )?;
    if ctx.out.json {
        return ctx.out.json_line(&KeyJson::new(&key, now)).map(|()| 0);
    }
    let status = key.status(now).as_str();
    let message = if changed {
        format!("Key {} is now {status}.", describe(&key))
    } else {
        format!(
            "Key {} was already {action}d; status: {status}.",
            describe(&key)
        )
    };
    ctx.out.line(&message)?;
    if !disable {
        // Switched on is not valid when something else still stops it.
        if key.status(now) == Status::Expired {
            ctx.out.notice(&format!(
                "note: the key expired, so it still does not verify; to lift the expiry: \
                 keysmith edit {} --no-expiry (or --expires-in DURATION)",
                Untrusted(&key.id)
            ))?;
        }
        if let Some(by) = &key.replaced_by {
            ctx.out.notice(&format!(
                "warning: this key was replaced by {} in a rotation; clients should use that one",
                Untrusted(by)
            ))?;
        }
    }
    Ok(0)
}

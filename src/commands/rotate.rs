//! `keysmith rotate`: replace a key with a new one and retire the old one,
//! at once or after a grace period.

use super::create::{NewKeyShown, show_new_key};
use super::{Context, change, confirm, describe, resolve};
use crate::clipboard::ClipboardCopy;
use crate::error::{Error, Result};
use crate::help::examples;
use crate::input::Duration;
use crate::lifecycle::{self, Rotated, Rotation};
use crate::model::Retire;
use crate::redact::Untrusted;
use crate::store::OpenMode;
use crate::time;
use clap::Args;

fn already_replaced(id: &str, replacement: &str) -> Error {
    let (id, replacement) = (Untrusted(id), Untrusted(replacement));
    Error::Usage(format!(
        "key {id} was already rotated: its replacement is {replacement}; rotate {replacement} instead"
    ))
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith rotate OKnjlCW3ValJ --grace 24h --yes",
    "KEY=$(keysmith rotate OKnjlCW3ValJ --yes)",
    "keysmith rotate OKnjlCW3ValJ --copy",
))]
pub struct RotateArgs {
    /// The key: its id, its full key, a name that matches exactly one key,
    /// or - to read the full key from stdin
    #[arg(value_name = "KEY", add = crate::complete::candidates::keys(None))]
    pub key: String,

    /// Keep the old key valid this long (e.g. 24h) instead of disabling it now
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub grace: Option<Duration>,

    /// Skip the confirmation prompt (required without a terminal)
    #[arg(long, short)]
    pub yes: bool,

    /// Put the new key on the clipboard instead of printing it (cleared
    /// after $KEYSMITH_CLIP_TIME seconds, 45 by default)
    #[arg(long, short = 'c')]
    pub copy: bool,
}

pub fn run(ctx: &mut Context, args: RotateArgs) -> Result<u8> {
    crate::harden::no_core_dumps();
    let grace = args.grace.map(Duration::seconds);
    let copy = args
        .copy
        .then(|| ClipboardCopy::prepare(ctx.out.json))
        .transpose()?;
    if copy.is_none() {
        ctx.out.refuse_unread_stdout()?;
    }
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let old = resolve(store.as_mut(), &args.key)?;
    if let Some(replacement) = &old.replaced_by {
        return Err(already_replaced(&old.id, replacement));
    }
    let retirement = match grace {
        None => "disabled at once".to_owned(),
        Some(secs) => format!("valid until {}", time::local_minutes(time::now() + secs)),
    };
    confirm(
        args.yes,
        &format!(
            "Rotate key {}: a new key replaces it, and the old key stays {retirement}.",
            describe(&old)
        ),
        "Rotate it?",
    )?;

    let now = time::now();
    let retire = grace.map_or(Retire::Now, |secs| Retire::At(now + secs));
    match lifecycle::rotate(store.as_mut(), &old.id, retire, change(now))? {
        Rotation::Rotated(rotated) => {
            let Rotated {
                minted,
                new,
                before,
                retired,
            } = *rotated;
            let status = match retire {
                Retire::Now => "is disabled now".to_owned(),
                Retire::At(_) => format!(
                    "stays valid until {}",
                    retired
                        .expires_at
                        .map_or("never".into(), time::local_minutes)
                ),
            };
            let what = format!(
                "Rotated key {} to {}; the old key {status}",
                describe(&retired),
                Untrusted(&new.id)
            );
            let shown = NewKeyShown {
                minted: &minted,
                record: &new,
                now,
                what: &what,
                copy: copy.as_ref(),
            };
            show_new_key(ctx, store.as_mut(), &shown, Some(&before))?;
            if let (Retire::At(_), Some(left)) = (retire, before.limits.remaining_uses) {
                // A budget of uses is moved, never doubled (docs/src/limits.md).
                ctx.out.notice(&format!(
                    "note: the old key's {left} remaining uses moved to the new key; \
                     until it expires the old key answers USAGE_EXCEEDED"
                ))?;
            }
            if before.disabled {
                ctx.out.notice(&format!(
                    "note: key {} was already disabled; its replacement is enabled",
                    Untrusted(&old.id)
                ))?;
            }
            Ok(0)
        }
        Rotation::AlreadyReplaced(replacement) => Err(already_replaced(&old.id, &replacement)),
        Rotation::NoSuchKey => Err(Error::NoSuchKey(format!(
            "key {} was deleted meanwhile",
            Untrusted(&old.id)
        ))),
    }
}

//! `keysmith delete`: remove a key for good; its history stays.

use super::{Context, change, confirm, describe, resolve};
use crate::error::{Error, Result};
use crate::help::examples;
use crate::lifecycle;
use crate::output::KeyJson;
use crate::redact::Untrusted;
use crate::store::OpenMode;
use crate::time;
use clap::Args;

#[derive(Debug, Args)]
#[command(after_help = examples!(
    r#"keysmith delete "billing webhook""#,
    "keysmith delete OKnjlCW3ValJ --yes",
))]
pub struct DeleteArgs {
    /// The key: its id, its full key, a name that matches exactly one key,
    /// or - to read the full key from stdin
    #[arg(value_name = "KEY", add = crate::complete::candidates::keys(None))]
    pub key: String,

    /// Skip the confirmation prompt (required without a terminal)
    #[arg(long, short)]
    pub yes: bool,
}

pub fn run(ctx: &mut Context, args: DeleteArgs) -> Result<u8> {
    let mut store = ctx.open(OpenMode::NoCreate)?;
    let key = resolve(store.as_mut(), &args.key)?;
    confirm(
        args.yes,
        &format!(
            "Delete key {} for good: it stops working, its history stays.",
            describe(&key)
        ),
        "Delete it?",
    )?;
    let now = time::now();
    let deleted = lifecycle::delete(store.as_mut(), &key.id, change(now))?.ok_or_else(|| {
        Error::NoSuchKey(format!("key {} was deleted meanwhile", Untrusted(&key.id)))
    })?;
    if ctx.out.json {
        ctx.out.json_line(&KeyJson::new(&deleted, now))?;
    } else {
        ctx.out
            .line(&format!("Deleted key {}.", describe(&deleted)))?;
    }
    Ok(0)
}

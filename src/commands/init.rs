//! `keysmith init`: an empty store, for a `serve` deployment that has no
//! key yet (docs/src/store.md: only `create`, `migrate`'s target and `init` make one).

use super::Context;
use crate::error::Result;
use crate::store::OpenMode;

pub fn run(ctx: &mut Context) -> Result<u8> {
    let choice = ctx.choose()?;
    let store = ctx.open_chosen(&choice, OpenMode::Create)?;
    drop(store);
    let shown = crate::redact::Untrusted(&choice.location.display()).to_string();
    // Idempotent, as `git init` is: an existing store is left as it is.
    let created = ctx.take_created().is_some();
    if ctx.out.json {
        ctx.out.json_line(&serde_json::json!({
            "store": choice.location.display(),
            "created": created,
        }))?;
    } else if created {
        ctx.out.notice(&format!("Created a new store at {shown}"))?;
    } else {
        ctx.out.notice(&format!(
            "A store is already at {shown}; it was left as it is."
        ))?;
    }
    Ok(0)
}

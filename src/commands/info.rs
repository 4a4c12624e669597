//! `keysmith info`: the store used, where that choice came from, its
//! backend, schema version and keys (docs/src/store.md). A missing store is refused
//! with the same line as any other command's (exit 4).

use super::Context;
use crate::error::Result;
use crate::redact::Untrusted;
use crate::store::OpenMode;

pub fn run(ctx: &mut Context) -> Result<u8> {
    let choice = ctx.choose()?;
    let mut store = ctx.open_chosen(&choice, OpenMode::NoCreate)?;
    let counts = store.key_counts(crate::time::now())?;
    let backend = choice.location.backend();
    let shown = choice.location.display();
    if ctx.out.json {
        ctx.out.json_line(&serde_json::json!({
            "store": shown,
            "source": choice.source.kind(),
            "config_file": choice.source.file().map(|f| f.display().to_string()),
            "backend": backend,
            "schema_version": store.schema_version(),
            "keys": {
                "total": counts.total(),
                "enabled": counts.enabled,
                "disabled": counts.disabled,
                "expired": counts.expired,
            },
        }))?;
        return Ok(0);
    }
    let lines = [
        format!("store:    {}", Untrusted(&shown)),
        format!("from:     {}", choice.source),
        format!("backend:  {backend}"),
        format!("schema:   version {}", store.schema_version()),
        format!(
            "keys:     {} ({} enabled, {} disabled, {} expired)",
            counts.total(),
            counts.enabled,
            counts.disabled,
            counts.expired
        ),
    ];
    for line in lines {
        ctx.out.line(&line)?;
    }
    Ok(0)
}

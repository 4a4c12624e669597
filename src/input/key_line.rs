//! One line of `create --from` (docs/src/commands/create.md): a JSON
//! object whose fields are read by the same rules as the flags.

use std::str::FromStr;

use serde::Deserialize;

use super::{
    Description, Duration, Invalid, MAX_LINE, Meta, Name, Owner, Prefix, Rate, RefillSpec, Scope,
    Service, Uses,
};
use crate::error::Error;
use crate::model::{Limits, NewKey};

/// One input line. Unknown fields are refused: a typo must not pass silently.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    name: String,
    description: Option<String>,
    service: Option<String>,
    prefix: Option<String>,
    expires_in: Option<String>,
    scopes: Option<Vec<String>>,
    uses: Option<serde_json::Value>,
    rate: Option<String>,
    /// With `uses`: the refill's schedule (`RefillSpec`).
    refill: Option<String>,
    allow_ip: Option<Vec<String>>,
    owner: Option<String>,
    /// Any JSON: `Meta` says what it must be.
    meta: Option<serde_json::Value>,
}

/// `raw` read by rule `T`, named by the line's `field` where the rule is
/// named by its source.
fn field<T: FromStr<Err = Invalid>>(field: &'static str, raw: &str) -> Result<T, Invalid> {
    raw.parse().map_err(|e: Invalid| e.or_field(field))
}

/// One line of `create --from`: a checked key spec, or `None` for a blank line.
pub fn key_line(raw: &[u8], default_prefix: &Prefix) -> Result<Option<NewKey>, Error> {
    if raw.len() as u64 > MAX_LINE {
        return Err(Error::Usage("longer than 1 MiB".into()));
    }
    let text = std::str::from_utf8(raw).map_err(|_| Error::Usage("not UTF-8".into()))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let not_object = |why: &dyn std::fmt::Display| {
        Error::Usage(format!(
            "not a key object ({why}); expected {{\"name\": ..., \"description\": ..., \"service\": ..., \"prefix\": ..., \"expires_in\": ..., \"scopes\": [...], \"uses\": N, \"rate\": \"N/DURATION\", \"refill\": ..., \"allow_ip\": [...], \"owner\": ..., \"meta\": {{...}}}}"
        ))
    };
    let line: Line = serde_json::from_str(text).map_err(|e| {
        // serde counts lines of its own input, the one line: only the
        // column is news beside the caller's "line N".
        let full = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        match full.strip_suffix(&position) {
            Some(why) => not_object(&format_args!("{why}, at column {}", e.column())),
            None => not_object(&full),
        }
    })?;
    // serde also reads a struct from an array, field by field in order
    // (`["name", "description", ...]`): only an object names its fields.
    if !text.trim_start().starts_with('{') {
        return Err(not_object(&"an array, not an object"));
    }
    let uses = line.uses.as_ref().map(json_uses).transpose()?.map(|u| u.0);
    let refill = match (line.refill, uses) {
        (None, _) => None,
        (Some(every), Some(uses)) => Some(crate::model::Refill::new(
            field::<RefillSpec>("refill", &every)?.0,
            uses,
            crate::time::now(),
        )),
        (Some(_), None) => {
            return Err(
                Invalid::named("refill", "needs uses: the amount the uses return to").into(),
            );
        }
    };
    let scopes = line
        .scopes
        .unwrap_or_default()
        .iter()
        .map(|s| field::<Scope>("scope", s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(NewKey {
        name: field::<Name>("name", &line.name)?.into(),
        description: line
            .description
            .map(|d| field::<Description>("description", &d))
            .transpose()?
            .and_then(Description::into_text),
        service: line
            .service
            .map(|s| field::<Service>("service", &s).map(String::from))
            .transpose()?,
        prefix: match line.prefix {
            Some(p) => field::<Prefix>("prefix", &p)?,
            None => default_prefix.clone(),
        }
        .into(),
        expires_in: line
            .expires_in
            .map(|d| field::<Duration>("expires_in", &d).map(Duration::seconds))
            .transpose()?,
        limits: Limits {
            scopes: super::key_scopes(scopes)?,
            remaining_uses: uses,
            rate: line
                .rate
                .map(|r| field::<Rate>("rate", &r).map(|r| r.0))
                .transpose()?,
            refill,
            allow_ip: super::ip_rules(
                line.allow_ip
                    .unwrap_or_default()
                    .iter()
                    .map(|r| field::<super::AllowIp>("allow_ip", r))
                    .collect::<Result<Vec<_>, _>>()?,
            )?,
        },
        owner: line
            .owner
            .map(|o| field::<Owner>("owner", &o).map(String::from))
            .transpose()?,
        // JSON null is no metadata, as for every other field.
        meta: match line.meta {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => Some(Meta::from_value(value)?.into()),
        },
    }))
}

/// `uses` of a JSON line: a number (or its digits in a string).
fn json_uses(value: &serde_json::Value) -> Result<Uses, Invalid> {
    match value {
        serde_json::Value::Number(n) => field("uses", &n.to_string()),
        serde_json::Value::String(s) => field("uses", s),
        _ => field("uses", ""),
    }
}

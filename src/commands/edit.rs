//! `keysmith edit`: change a key's name, description, service, expiry,
//! limits, owner or metadata.

use super::{Context, OwnedArgs, change, describe, meta_given, resolve};
use crate::error::{Error, Result};
use crate::help::examples;
use crate::input::{
    self, AllowIp, Description, Duration, Name, Rate, RefillSpec, Scope, Service, Uses,
};
use crate::lifecycle::{self, Changed};
use crate::model::{KeyEdit, Refill};
use crate::output::KeyJson;
use crate::redact::Untrusted;
use crate::store::OpenMode;
use crate::time;
use clap::Args;

#[derive(Debug, Args)]
#[command(after_help = examples!(
    r#"keysmith edit "billing webhook" --service billing-eu --expires-in 30d"#,
    r#"keysmith edit OKnjlCW3ValJ --no-expiry --description """#,
    "keysmith edit OKnjlCW3ValJ --scope sms:send --uses 5000 --rate 10/1s",
))]
pub struct EditArgs {
    /// The key: its id, its full key, a name that matches exactly one key,
    /// or - to read the full key from stdin
    #[arg(value_name = "KEY", add = crate::complete::candidates::keys(None))]
    pub key: String,

    /// A new name
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub name: Option<Name>,

    /// A new description ("" removes it)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub description: Option<Description>,

    /// A new service
    #[arg(long, value_name = "SERVICE", allow_hyphen_values = true, add = crate::complete::candidates::services())]
    pub service: Option<Service>,

    /// Take the key out of its service: it then verifies only without --service
    #[arg(long, conflicts_with = "service")]
    pub no_service: bool,

    /// Expire this long from now, e.g. 30d, 12h, 1d12h
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub expires_in: Option<Duration>,

    /// Remove the expiry
    #[arg(long, conflicts_with = "expires_in")]
    pub no_expiry: bool,

    /// Grant exactly these scopes (repeatable), replacing the key's
    #[arg(long = "scope", value_name = "SCOPE", allow_hyphen_values = true)]
    pub scope: Vec<Scope>,

    /// Remove every scope
    #[arg(long, conflicts_with = "scope")]
    pub no_scopes: bool,

    /// Allow this many more VALID verifications from now on
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub uses: Option<Uses>,

    /// Remove the limit of uses
    #[arg(long, conflicts_with = "uses")]
    pub unlimited_uses: bool,

    /// A new rate limit, e.g. 100/1m
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

    /// Allow the key only from these addresses or CIDR ranges (repeatable),
    /// replacing its rules
    #[arg(long = "allow-ip", value_name = "CIDR")]
    pub allow_ip: Vec<AllowIp>,

    /// Remove every IP rule: any address may use the key
    #[arg(long, conflicts_with = "allow_ip")]
    pub no_allow_ip: bool,

    #[command(flatten)]
    pub owned: OwnedArgs,

    /// Take the key from its owner
    #[arg(long, conflicts_with = "owner")]
    pub no_owner: bool,

    /// Remove the metadata
    #[arg(long, conflicts_with_all = ["meta", "meta_file"])]
    pub no_meta: bool,
}

pub fn run(ctx: &mut Context, args: EditArgs) -> Result<u8> {
    let now = time::now();
    let edit = KeyEdit {
        name: args.name.map(String::from),
        description: args.description.map(Description::into_text),
        service: match (args.service, args.no_service) {
            (Some(s), _) => Some(Some(s.into())),
            (None, true) => Some(None),
            (None, false) => None,
        },
        expires_at: match (args.expires_in, args.no_expiry) {
            (Some(d), _) => Some(Some(now + d.seconds())),
            (None, true) => Some(None),
            (None, false) => None,
        },
        scopes: match (args.scope.is_empty(), args.no_scopes) {
            (false, _) => Some(input::key_scopes(args.scope)?),
            (true, true) => Some(Vec::new()),
            (true, false) => None,
        },
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
            (Some((every, uses)), _) => Some(Some(Refill::new(every.0, uses.0, now))),
            (None, true) => Some(None),
            (None, false) => None,
        },
        allow_ip: match (args.allow_ip.is_empty(), args.no_allow_ip) {
            (false, _) => Some(input::ip_rules(args.allow_ip)?),
            (true, true) => Some(Vec::new()),
            (true, false) => None,
        },
        owner: match (args.owned.owner, args.no_owner) {
            (Some(o), _) => Some(Some(o.into())),
            (None, true) => Some(None),
            (None, false) => None,
        },
        meta: match (
            meta_given(args.owned.meta, args.owned.meta_file.as_deref())?,
            args.no_meta,
        ) {
            (Some(m), _) => Some(Some(m)),
            (None, true) => Some(None),
            (None, false) => None,
        },
    };
    if edit == KeyEdit::default() {
        return Err(Error::Usage(
            "nothing to change: pass --name, --description, --service, --no-service, --expires-in, \
             --no-expiry, --scope, --no-scopes, --uses, --unlimited-uses, --rate, --no-rate, \
             --refill, --no-refill, --allow-ip, --no-allow-ip, --owner, --no-owner, --meta, --meta-file or --no-meta"
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

//! `keysmith verify`: check one key; exit 0 when valid, 1 when not.

use std::io::{self, IsTerminal};

use zeroize::Zeroizing;

mod args;
mod stdin_all;

pub use args::VerifyArgs;

use super::Context;
use crate::error::{Error, Result};
use crate::input;
use crate::key_format;
use crate::output::notice;
use crate::prompt;
use crate::redact::Untrusted;
use crate::store::OpenMode;
use crate::time;
use crate::verify::{Code, Required, Verdict, VerdictJson, check};

/// A key line longer than this is no key; the cap bounds what is read.
pub const MAX_INPUT: u64 = super::MAX_KEY_INPUT;

pub fn run(ctx: &mut Context, args: VerifyArgs) -> Result<u8> {
    let service = args.service.map(String::from);
    let scopes = input::scopes(args.scope)?;
    let required = Required {
        service,
        scopes,
        cost: args.cost.0,
        costs: Vec::new(),
        client_ip: args.ip.map(|ip| ip.0),
    };
    if args.stdin_all {
        return stdin_all::run(ctx, &required);
    }
    let presented = read_key(args.key)?;
    let now = time::now();
    let (verdict, malformed) = match key_format::parse(presented.trim()) {
        None => (
            Verdict::new(Code::Malformed, None),
            Some(key_format::what_is_wrong(presented.trim())),
        ),
        Some(parsed) => {
            let mut store = ctx.open(OpenMode::NoCreate)?;
            (check(store.as_mut(), &parsed, &required, now)?, None)
        }
    };
    drop(presented);

    if ctx.out.json {
        ctx.out.json_line(&VerdictJson::new(&verdict))?;
    } else if let (true, Some(key)) = (verdict.is_valid(), verdict.key.as_ref()) {
        ctx.out.line(&format!(
            "valid {} {}",
            Untrusted(&key.id),
            Untrusted(&key.name)
        ))?;
    } else {
        ctx.out
            .line(&format!("invalid: {}", verdict.code.as_str()))?;
    }
    if verdict.root_key {
        // Always, not only at a terminal: a script checking a root key is
        // a mistake worth naming.
        ctx.out.notice(&format!("note: this is {ROOT_KEY}"))?;
    } else if !verdict.is_valid() && io::stderr().is_terminal() {
        // For a person at a terminal: why, on stderr; stdout stays the data.
        let why = malformed.map_or_else(|| reason(&verdict, &required), str::to_owned);
        ctx.out.notice(&format!("why: {why}"))?;
    }
    Ok(if verdict.is_valid() { 0 } else { 1 })
}

/// What `verify` says of a root key it was given (docs/src/limits.md).
const ROOT_KEY: &str =
    "a root key, for keysmith's admin API only: every verification answers it NOT_FOUND";

/// Why a well-formed key was rejected, in words; names the key by id and
/// name, never by anything presented.
fn reason(verdict: &Verdict, required: &Required) -> String {
    let Some(key) = verdict.key.as_ref() else {
        return "no key in this store has this id and secret: it was deleted, belongs to \
                another store (check --db), or is not one of ours"
            .to_owned();
    };
    let who = format!("key {} ({})", Untrusted(&key.id), Untrusted(&key.name));
    match verdict.code {
        Code::Disabled if !key.disabled => format!(
            "{who} belongs to the owner {}, which is disabled; switch it on with: \
             keysmith owner enable {}",
            Untrusted::or(key.owner.as_deref(), "-"),
            Untrusted::or(key.owner.as_deref(), "-")
        ),
        Code::Disabled => format!(
            "{who} is disabled; switch it on with: keysmith enable {}",
            key.id
        ),
        Code::Expired => format!(
            "{who} expired at {}",
            key.expires_at.map_or("-".to_owned(), time::local_minutes)
        ),
        Code::WrongService => match key.service.as_deref() {
            Some(service) => format!(
                "{who} belongs to the service '{}', not '{}'",
                Untrusted(service),
                Untrusted(required.service.as_deref().unwrap_or(""))
            ),
            None => format!("{who} belongs to no service"),
        },
        Code::InsufficientScope => {
            let missing: Vec<&str> = required
                .scopes
                .iter()
                .filter(|want| !key.limits.grants_all(std::slice::from_ref(*want)))
                .map(String::as_str)
                .collect();
            let held = key.limits.scopes.join(", ");
            format!(
                "{who} lacks the scope {} (it holds: {})",
                Untrusted(&missing.join(", ")),
                if held.is_empty() {
                    "none".to_owned()
                } else {
                    Untrusted(&held).to_string()
                }
            )
        }
        Code::UsageExceeded => format!(
            "{who} has no uses left; grant more with: keysmith edit {} --uses N",
            key.id
        ),
        Code::IpNotAllowed => match required.client_ip {
            Some(ip) => format!("{who} may not be used from {ip} (its IP rules, or its owner's)"),
            None => format!("{who} has IP rules: pass the client's address with --ip ADDR"),
        },
        Code::Valid | Code::Malformed | Code::NotFound | Code::RateLimited => {
            format!("{who}: {}", verdict.code.as_str())
        }
    }
}

/// The key to check: the argument, else the first line of stdin, else a
/// hidden prompt on a terminal.
fn read_key(argument: Option<String>) -> Result<Zeroizing<String>> {
    // `-` is stdin, as for every command that takes a key.
    if let Some(key) = argument.filter(|k| k != "-") {
        notice(
            "warning: a key given as an argument is visible to other users (ps, shell history); \
             pipe it on stdin instead: keysmith verify < keyfile",
        );
        return Ok(Zeroizing::new(key));
    }
    if !io::stdin().is_terminal() || prompt::can_prompt() {
        return super::key_from_stdin("verify");
    }
    Err(Error::Usage(
        "no key given: pass it on stdin (keysmith verify < keyfile) or as an argument".into(),
    ))
}

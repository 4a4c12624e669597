//! One file per command. A command validates its input, changes keys
//! through `crate::keys` (reads go to the `Store` directly) and prints
//! through `Output`; none builds SQL.

mod backup;
mod bulk;
mod completions;
mod create;
mod delete;
mod edit;
mod history;
mod list;
mod man;
mod migrate;
mod rotate;
mod scan;
mod serve;
mod show;
mod switch;
mod verify;
mod verify_all;

use crate::cli::{Cli, Command, Deferred};
use crate::error::{Error, Result};
use crate::key;
use crate::keys::Change;
use crate::model::{KeyRecord, Timestamp};
use crate::output::Output;
use crate::prompt;
use crate::redact::Untrusted;
use crate::store::{self, Location, OpenMode, Presence, Store};

/// What every command gets: where the store is and how to print.
pub struct Context {
    pub location: Option<String>,
    pub out: Output,
    /// Set when the store opened was not there (a command that only
    /// reads): the path, for messages that would otherwise just say
    /// "no keys".
    pub missing: Option<String>,
}

impl Context {
    /// Opens the store, showing what opening it found worth telling.
    pub fn open(&mut self, mode: OpenMode) -> Result<Box<dyn Store>> {
        let location = Location::resolve(self.location.as_deref())?;
        let opened = store::open(&location, mode)?;
        for warning in &opened.warnings {
            self.out.notice(&format!("warning: {warning}"))?;
        }
        let shown = || match &location {
            Location::Sqlite(path) => Untrusted(&path.display().to_string()).to_string(),
            Location::Postgres(_) => String::new(),
        };
        match opened.presence {
            Presence::Found => {}
            Presence::Created => self
                .out
                .notice(&format!("Created a new store at {}", shown()))?,
            Presence::Missing => self.missing = Some(shown()),
        }
        Ok(opened.store)
    }
}

/// Runs the parsed command; `Ok` carries the exit code of an answer (0 or 1).
pub fn run(cli: Cli) -> Result<u8> {
    let mut ctx = Context {
        location: cli.db,
        out: Output::new(cli.json),
        missing: None,
    };
    let code = match cli.command {
        Command::Create(Deferred(args)) => create::run(&mut ctx, args),
        Command::List(Deferred(args)) => list::run(&mut ctx, args),
        Command::Enable(Deferred(args)) => switch::run(&mut ctx, args, false),
        Command::Disable(Deferred(args)) => switch::run(&mut ctx, args, true),
        Command::Verify(Deferred(args)) => verify::run(&mut ctx, args),
        Command::Show(Deferred(args)) => show::run(&mut ctx, args),
        Command::Edit(Deferred(args)) => edit::run(&mut ctx, args),
        Command::Rotate(Deferred(args)) => rotate::run(&mut ctx, args),
        Command::ClipboardKeeper(Deferred(args)) => crate::clipboard::keep(args),
        Command::Delete(Deferred(args)) => delete::run(&mut ctx, args),
        Command::History(Deferred(args)) => history::run(&mut ctx, args),
        Command::Scan(Deferred(args)) => scan::run(&mut ctx, args),
        Command::Backup(Deferred(args)) => backup::run(&mut ctx, args),
        Command::Migrate(Deferred(args)) => migrate::run(&mut ctx, args),
        Command::Completions(Deferred(args)) => completions::run(&mut ctx, args),
        Command::Serve(Deferred(args)) => serve::run(&mut ctx, args),
        Command::Man(Deferred(args)) => man::run(&mut ctx, args),
    };
    // Nothing found in a store that is not there: say where it was looked for.
    let code = match (code, &ctx.missing) {
        (Err(Error::NoSuchKey(message)), Some(path)) => Err(Error::NoSuchKey(format!(
            "{message} (there is no store at {path}: check --db or KEYSMITH_DB)"
        ))),
        (code, _) => code,
    }?;
    ctx.out.flush()?;
    Ok(code)
}

/// The OS user a change is recorded against (looked up once per process):
/// the name the user database gives the real uid. Without an entry there,
/// the uid itself: `$USER` can be set to anything, so it is only a note.
fn actor() -> &'static str {
    static ACTOR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ACTOR.get_or_init(|| {
        if let Ok(name) = whoami::username() {
            return name;
        }
        #[cfg(unix)]
        {
            let uid = rustix::process::getuid().as_raw();
            match std::env::var("USER") {
                Ok(user) if !user.is_empty() => format!("uid:{uid} (USER={user})"),
                _ => format!("uid:{uid}"),
            }
        }
        #[cfg(not(unix))]
        std::env::var("USERNAME").unwrap_or_else(|_| "unknown".into())
    })
}

/// A change made now by this process's user.
fn change(at: Timestamp) -> Change<'static> {
    Change { actor: actor(), at }
}

/// Finds the key a selector names: a full key (by its id), an id, or a name
/// that matches exactly one key, tried in that order.
fn resolve(store: &mut dyn Store, selector: &str) -> Result<KeyRecord> {
    if let Some(parsed) = key::parse(selector) {
        return store.key_by_id(&parsed.id)?.ok_or_else(|| {
            Error::NoSuchKey(format!("no key with id {} in this store", parsed.id))
        });
    }
    if let Some(id) = key::masked_id(selector.trim()) {
        return store.key_by_id(id)?.ok_or_else(|| {
            Error::NoSuchKey(format!("no key with id {} in this store", Untrusted(id)))
        });
    }
    if key::is_id_shaped(selector)
        && let Some(found) = store.key_by_id(selector)?
    {
        return Ok(found);
    }
    let mut named = store.keys_by_name(selector.trim())?;
    match named.len() {
        1 => Ok(named.remove(0)),
        0 => Err(Error::NoSuchKey(format!(
            "no key matches '{}'; run `keysmith list` to see ids and names",
            Untrusted(selector)
        ))),
        n => {
            let now = crate::time::now();
            let candidates: Vec<String> = named
                .iter()
                .map(|k| {
                    let replaced = k.replaced_by.as_deref().map_or(String::new(), |by| {
                        format!(", replaced by {}", Untrusted(by))
                    });
                    format!(
                        "{} ({}, created {}{replaced})",
                        Untrusted(&k.id),
                        k.status(now).as_str(),
                        crate::time::local_minutes(k.created_at)
                    )
                })
                .collect();
            Err(Error::NoSuchKey(format!(
                "the name '{}' matches {n} keys: {}; select one by id",
                Untrusted(selector.trim()),
                candidates.join("; ")
            )))
        }
    }
}

/// Goes ahead with `yes`; otherwise asks at a terminal (no: exit 1), and
/// without one fails at once, naming `--yes`, rather than wait for input.
fn confirm(yes: bool, question: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !prompt::can_prompt() {
        return Err(Error::Usage(
            "this needs confirmation: pass --yes (prompting needs a terminal)".into(),
        ));
    }
    if prompt::confirm(question, false)? {
        Ok(())
    } else {
        Err(Error::Declined)
    }
}

/// `id (name)` for messages, safe for a terminal.
fn describe(key: &KeyRecord) -> String {
    format!("{} ({})", Untrusted(&key.id), Untrusted(&key.name))
}

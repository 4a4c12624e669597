//! One file per command. A command validates its input, changes keys
//! through `crate::lifecycle` (reads go to the `Store` directly) and prints
//! through `Output`; none builds SQL.

pub(crate) mod backup;
pub(crate) mod completions;
pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod edit;
pub(crate) mod history;
pub(crate) mod info;
pub(crate) mod init;
pub(crate) mod list;
pub(crate) mod man;
pub(crate) mod migrate;
mod owned;
pub(crate) mod owner;
pub(crate) mod rotate;
pub(crate) mod scan;
pub(crate) mod serve;
pub(crate) mod show;
pub(crate) mod switch;
pub(crate) mod verify;

pub use backup::BackupArgs;
pub use completions::CompletionsArgs;
pub use create::CreateArgs;
pub use delete::DeleteArgs;
pub use edit::EditArgs;
pub use history::HistoryArgs;
pub use list::ListArgs;
pub use man::ManArgs;
pub use migrate::MigrateArgs;
pub use owned::{OwnedArgs, meta_given};
pub use owner::OwnerArgs;
pub use rotate::RotateArgs;
pub use scan::ScanArgs;
pub use serve::ServeArgs;
pub use verify::VerifyArgs;

use crate::config::{self, ConfigFiles, Source, StoreChoice};
use crate::error::StoreFault;
use crate::error::{Error, Result};
use crate::key_format;
use crate::lifecycle::Change;
use crate::model::{KeyRecord, Status, Timestamp};
use crate::output::Output;
use crate::prompt;
use crate::redact::Untrusted;
use crate::store::{self, OpenMode, Presence, Store};
use clap::Args;
use zeroize::Zeroizing;

/// What every command gets: where the store is and how to print.
pub struct Context {
    /// `--db` or `KEYSMITH_DB`, with which one it was.
    pub given: Option<(String, Source)>,
    pub out: Output,
    /// A store this command made, shown once the command has succeeded
    /// (a store that could not be used after all is not announced).
    created: Option<String>,
}

impl Context {
    /// The store this command uses and why: `--db`, `KEYSMITH_DB`, the
    /// configuration files, the default (docs/src/store.md).
    pub fn choose(&self) -> Result<StoreChoice> {
        let given = self
            .given
            .as_ref()
            .map(|(db, source)| (db.as_str(), source.clone()));
        config::choose(given, &ConfigFiles::standard())
    }

    /// Opens the store, showing what opening it found worth telling. A
    /// missing store is refused (exit 4) naming where its path came from,
    /// unless `mode` makes one.
    pub fn open(&mut self, mode: OpenMode) -> Result<Box<dyn Store>> {
        let choice = self.choose()?;
        self.open_chosen(&choice, mode)
    }

    /// `open`, of a store already chosen.
    pub fn open_chosen(&mut self, choice: &StoreChoice, mode: OpenMode) -> Result<Box<dyn Store>> {
        for warning in &choice.warnings {
            self.out.notice(&format!("warning: {warning}"))?;
        }
        let opened = store::open(&choice.location, mode).map_err(|e| refusal(e, choice))?;
        for warning in &opened.warnings {
            self.out.notice(&format!("warning: {warning}"))?;
        }
        if opened.presence == Presence::Created {
            self.created = Some(Untrusted(&choice.location.display()).to_string());
        }
        Ok(opened.store)
    }
}

impl Context {
    /// The store this command made, if any, to announce it itself (and
    /// not again at the end).
    pub fn take_created(&mut self) -> Option<String> {
        self.created.take()
    }
}

/// A missing store's refusal, naming where its location came from and
/// what makes one.
fn refusal(e: Error, choice: &StoreChoice) -> Error {
    match e {
        Error::Store {
            fault: StoreFault::Missing,
            message,
        } => Error::store(
            StoreFault::Missing,
            format!(
                "{message} (from {}); check the path, or make a store with \
                 `keysmith create` or `keysmith init`",
                choice.source
            ),
        ),
        e => e,
    }
}

// The arguments of `enable`, `disable` and `show`: a key; `O` says which
// keys its completion offers. (Not a doc comment: clap would take it for
// the subcommands' help.)
#[derive(Debug, Args)]
pub struct SelectArgs<O: Offered + 'static> {
    /// The key: its id, its full key, a name that matches exactly one key,
    /// or - to read the full key from stdin
    #[arg(value_name = "KEY", add = crate::complete::candidates::keys(O::STATUS))]
    pub key: String,

    #[arg(skip)]
    offered: std::marker::PhantomData<O>,
}

/// Which keys the completion of a `SelectArgs` offers: the keys a
/// subcommand can act on.
pub trait Offered: std::fmt::Debug {
    /// Keys of this status only; `None`: every key.
    const STATUS: Option<Status>;
}

/// Every key (`show`).
#[derive(Debug)]
pub struct AnyKey;

/// The disabled keys (`enable`).
#[derive(Debug)]
pub struct DisabledKeys;

/// The enabled keys (`disable`).
#[derive(Debug)]
pub struct EnabledKeys;

impl Offered for AnyKey {
    const STATUS: Option<Status> = None;
}

impl Offered for DisabledKeys {
    const STATUS: Option<Status> = Some(Status::Disabled);
}

impl Offered for EnabledKeys {
    const STATUS: Option<Status> = Some(Status::Enabled);
}

/// Runs one command, `command`, in a context on the store `given` names
/// (or the one the configuration chooses), printing as `json` and
/// `no_pager` say; `Ok` carries the exit code of an answer (0 or 1).
pub fn run(
    given: Option<(String, Source)>,
    json: bool,
    no_pager: bool,
    command: impl FnOnce(&mut Context) -> Result<u8>,
) -> Result<u8> {
    let mut ctx = Context {
        given,
        out: Output::new(json, no_pager),
        created: None,
    };
    let code = command(&mut ctx);
    // Said only of a store that was made and used (docs/src/store.md): a command that
    // failed after making it has already said why.
    if let (Some(path), Ok(_)) = (&ctx.created, &code) {
        ctx.out.notice(&format!("Created a new store at {path}"))?;
    }
    let code = code?;
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
        let uid = rustix::process::getuid().as_raw();
        match std::env::var("USER") {
            Ok(user) if !user.is_empty() => format!("uid:{uid} (USER={user})"),
            _ => format!("uid:{uid}"),
        }
    })
}

/// A change made now by this process's user.
fn change(at: Timestamp) -> Change<'static> {
    Change { actor: actor(), at }
}

/// Finds the key a selector names: `-` (a full key read from stdin), a
/// full key (by its id), a masked key or an id, or a name that matches
/// exactly one key, tried in that order. A name that matches several is a
/// choice at a terminal, else exit 3 listing them (docs/src/conventions.md).
fn resolve(store: &mut dyn Store, selector: &str) -> Result<KeyRecord> {
    if selector == "-" {
        let presented = key_from_stdin("-")?;
        let parsed = key_format::parse(presented.trim()).ok_or_else(|| {
            Error::Usage(format!(
                "`-` reads a full key from stdin, and what was read is not one: {}",
                key_format::what_is_wrong(presented.trim())
            ))
        })?;
        return store.key_by_id(&parsed.id)?.ok_or_else(|| {
            Error::NoSuchKey(format!("no key with id {} in this store", parsed.id))
        });
    }
    if let Some(parsed) = key_format::parse(selector) {
        return store.key_by_id(&parsed.id)?.ok_or_else(|| {
            Error::NoSuchKey(format!("no key with id {} in this store", parsed.id))
        });
    }
    if let Some(id) = key_format::masked_id(selector.trim()) {
        return store.key_by_id(id)?.ok_or_else(|| {
            Error::NoSuchKey(format!("no key with id {} in this store", Untrusted(id)))
        });
    }
    if key_format::is_id_shaped(selector)
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
            let candidates: Vec<String> = named.iter().map(|k| candidate(k, now)).collect();
            let name = Untrusted(selector.trim());
            if prompt::can_prompt() {
                let question = format!("The name '{name}' matches {n} keys; which one?");
                let chosen = prompt::choose(&question, &candidates)?;
                return Ok(named.swap_remove(chosen));
            }
            Err(Error::NoSuchKey(format!(
                "the name '{name}' matches {n} keys: {}; select one by id",
                candidates.join("; ")
            )))
        }
    }
}

/// One of several keys that share a name: id, status, creation, replacement.
fn candidate(key: &KeyRecord, now: Timestamp) -> String {
    let replaced = key.replaced_by.as_deref().map_or(String::new(), |by| {
        format!(", replaced by {}", Untrusted(by))
    });
    format!(
        "{} ({}, created {}{replaced})",
        Untrusted(&key.id),
        key.status(now).as_str(),
        crate::time::local_minutes(key.created_at)
    )
}

/// A full key from stdin, for `what` (`-`, `verify`): its first line, at
/// most `MAX_KEY_INPUT` bytes, or a hidden prompt at a terminal. Bytes that
/// are not UTF-8 read as an empty string (no key).
fn key_from_stdin(what: &str) -> Result<Zeroizing<String>> {
    use std::io::{BufRead, IsTerminal, Read};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = Zeroizing::new(Vec::new());
        stdin
            .lock()
            .take(MAX_KEY_INPUT)
            .read_until(b'\n', &mut line)
            .map_err(Error::input)?;
        let text = std::str::from_utf8(&line).unwrap_or_default();
        return Ok(Zeroizing::new(text.to_owned()));
    }
    if prompt::can_prompt() {
        return prompt::secret("Key");
    }
    Err(Error::Usage(format!(
        "{what} needs the key on stdin: keysmith ... {what} < keyfile"
    )))
}

/// A key line longer than this is no key; the cap bounds what is read.
pub const MAX_KEY_INPUT: u64 = 4096;

/// Goes ahead with `yes`; otherwise says what is `about` to happen and asks
/// the short `question` at a terminal (no: exit 1), and without one fails
/// at once, naming `--yes`, rather than wait for input.
fn confirm(yes: bool, about: &str, question: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !prompt::can_prompt() {
        return Err(Error::Usage(
            "this needs confirmation: pass --yes (prompting needs a terminal)".into(),
        ));
    }
    crate::output::notice(about);
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

//! The completers each argument attaches where it is declared
//! (`#[arg(add = candidates::keys(..))]`, `candidates::services()`): the
//! keys and services of the store the line being completed names, read
//! without creating it, printing an error, waiting long or showing a
//! secret. The request itself is answered in `complete` (the module
//! above), which sets the line first.

use std::ffi::OsStr;
use std::sync::mpsc;
use std::time::Duration;

use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter, CompletionCandidate};

use crate::model::Status;
use crate::redact::Untrusted;
use crate::store::{self, KeyFilter, OpenMode, Store};

/// What the bash registration passes besides clap_complete's variables: the
/// first character of the word as typed, a quote when the word opens one.
/// Bash hands over the word without it, and a name is quoted differently
/// inside quotes than outside.
pub(super) const BASH_QUOTE_VAR: &str = "_KEYSMITH_QUOTE";

/// The most candidates one Tab offers: more than a person reads, few enough
/// for a shell to take at once.
const MAX_CANDIDATES: usize = 200;

/// How many of the newest keys a Tab looks through for the ones that fit
/// (their status, a typed start of a name or id): the store has no index
/// on names or status, so a store of a million keys is not read through at
/// each Tab (older keys are still typed by id or name).
const SEARCHED_KEYS: u64 = 10_000;

/// The longest a Tab waits for the store (a busy SQLite file, a far or
/// silent PostgreSQL server): after that it offers nothing.
const DEADLINE: Duration = Duration::from_secs(2);

/// What the completers need of the line being completed: set by `command`
/// when the shell asks (the completers are made where the arguments are
/// declared, before the line is known).
struct Line {
    db: Option<String>,
    quoting: Quoting,
}

static LINE: std::sync::Mutex<Option<Line>> = std::sync::Mutex::new(None);

/// Sets the line being completed (see `Line`).
pub(super) fn set_line(db: Option<String>, quoting: Quoting) {
    *LINE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Line { db, quoting });
}

/// The line's store and quoting; nothing outside a completion request.
fn line() -> Option<(Option<String>, Quoting)> {
    let line = LINE.lock().unwrap_or_else(|e| e.into_inner());
    line.as_ref().map(|l| (l.db.clone(), l.quoting))
}

/// The completer of a `<KEY>` that selects a stored key: the keys of
/// `status` (any status when `None`), see `key_candidates`.
pub fn keys(status: Option<Status>) -> ArgValueCompleter {
    ArgValueCompleter::new(move |word: &OsStr| match line() {
        Some((db, quoting)) => key_candidates(db, status, word, quoting),
        None => Vec::new(),
    })
}

/// The completer of a `--service`: the stored services.
pub fn services() -> ArgValueCandidates {
    ArgValueCandidates::new(|| match line() {
        Some((db, _)) => service_candidates(db),
        None => Vec::new(),
    })
}

/// How the shell asking takes a candidate: what it does with quotes, and
/// whether it shows descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quoting {
    /// Bash: candidates replace the word as they stand, so a name is
    /// quoted here, the way the word began (`BASH_QUOTE_VAR`); no
    /// descriptions.
    Bash(Option<char>),
    /// zsh, fish and the others quote a candidate themselves, and show
    /// its description.
    Shell,
}

impl Quoting {
    pub(super) fn of(shell: &OsStr) -> Quoting {
        if shell != "bash" {
            return Quoting::Shell;
        }
        let quote = std::env::var(BASH_QUOTE_VAR)
            .ok()
            .and_then(|q| q.chars().next());
        Quoting::Bash(quote.filter(|q| matches!(q, '\'' | '"')))
    }

    /// The typed word as the text it stands for.
    fn read(self, word: &str) -> String {
        match self {
            // Bash gives the text after an opening quote as typed.
            Quoting::Bash(Some('\'')) => word.to_owned(),
            Quoting::Bash(Some(_)) => unquote(&format!("\"{word}")),
            _ => unquote(word),
        }
    }

    /// `name` as the shell must receive it, if it can be offered at all.
    fn write(self, name: &str) -> Option<String> {
        match self {
            Quoting::Shell => Some(name.to_owned()),
            // Nothing escapes within single quotes.
            Quoting::Bash(Some('\'')) => (!name.contains('\'')).then(|| name.to_owned()),
            // `!` would be history expansion in an interactive bash.
            Quoting::Bash(Some(_)) => (!name.contains('!')).then(|| {
                let mut out = String::with_capacity(name.len());
                for c in name.chars() {
                    if matches!(c, '"' | '\\' | '$' | '`') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out
            }),
            Quoting::Bash(None) => {
                let mut out = String::with_capacity(name.len() + 4);
                for (i, c) in name.chars().enumerate() {
                    let special = matches!(
                        c,
                        ' ' | '\''
                            | '"'
                            | '\\'
                            | '$'
                            | '`'
                            | '&'
                            | '|'
                            | ';'
                            | '<'
                            | '>'
                            | '('
                            | ')'
                            | '*'
                            | '?'
                            | '['
                            | ']'
                            | '{'
                            | '}'
                            | '!'
                    ) || (i == 0 && matches!(c, '#' | '~'));
                    if special {
                        out.push('\\');
                    }
                    out.push(c);
                }
                Some(out)
            }
        }
    }

    fn describes(self) -> bool {
        self == Quoting::Shell
    }
}

/// The keys of `status` (any when `None`), newest first, whose id or name
/// starts with what `word` stands for: names (each once, quoted as the
/// shell needs) and, where the shell shows descriptions or something was
/// typed, ids described by name and status. At most `MAX_CANDIDATES`, from
/// the newest `SEARCHED_KEYS` keys.
pub(super) fn key_candidates(
    db: Option<String>,
    status: Option<Status>,
    word: &OsStr,
    quoting: Quoting,
) -> Vec<CompletionCandidate> {
    let typed = quoting.read(&word.to_string_lossy());
    let found = read_store(db, move |store| {
        let now = crate::time::now();
        // The status is checked here, not by the store: the store has no
        // index on it, and a million keys with a few disabled would be read
        // through for `enable`. The newest keys are read, up to a bound.
        let filter = KeyFilter {
            limit: Some(SEARCHED_KEYS),
            now,
            ..Default::default()
        };
        let mut found = Found::default();
        let listed = store.list_keys(&filter, &mut |key| {
            // An id is base62; anything else was not written by keysmith
            // and is not offered to a shell.
            if !crate::key_format::is_id_shaped(&key.id) {
                return Ok(());
            }
            let current = key.status(now);
            if status.is_some_and(|wanted| wanted != current) {
                return Ok(());
            }
            let status = current.as_str();
            let ids = (quoting.describes() || !typed.is_empty()) && key.id.starts_with(&typed);
            if ids {
                let about = format!("{} ({status})", Untrusted(&key.name));
                found.ids.push((key.id.clone(), about));
            }
            // Bash shows no description, so there ids alone say nothing:
            // it gets the names instead.
            let names = !typed.is_empty() || !quoting.describes();
            if names && key.name.starts_with(&typed) && is_plain(&key.name) {
                found.add_name(&key.name, &key.id, status);
            }
            if found.len() >= MAX_CANDIDATES {
                // Enough: the store is read no further.
                return Err(crate::Error::Usage(String::new()));
            }
            Ok(())
        });
        match listed {
            Err(_) if found.len() >= MAX_CANDIDATES => {}
            other => other?,
        }
        Ok(vec![found])
    });
    let Some(found) = found.into_iter().next() else {
        return Vec::new();
    };
    let names = found.names.into_iter().filter_map(|(name, about)| {
        let value = quoting.write(&name)?;
        Some(CompletionCandidate::new(value).help(Some(about.into())))
    });
    let ids = found
        .ids
        .into_iter()
        .map(|(id, about)| CompletionCandidate::new(id).help(Some(about.into())));
    names.chain(ids).take(MAX_CANDIDATES).collect()
}

/// What a Tab found in the store: names with their descriptions, in the
/// order first met, and ids with theirs.
#[derive(Default)]
struct Found {
    names: Vec<(String, String)>,
    /// Where each name is in `names`, and how many keys bear it.
    seen: std::collections::HashMap<String, (usize, usize)>,
    ids: Vec<(String, String)>,
}

impl Found {
    fn add_name(&mut self, name: &str, id: &str, status: &str) {
        match self.seen.get_mut(name) {
            Some((at, count)) => {
                *count += 1;
                self.names[*at].1 = format!("{count} keys: pick one by id");
            }
            None => {
                self.seen.insert(name.to_owned(), (self.names.len(), 1));
                self.names
                    .push((name.to_owned(), format!("{id} ({status})")));
            }
        }
    }

    fn len(&self) -> usize {
        self.names.len() + self.ids.len()
    }
}

/// Whether a name can go onto a command line as it is: nothing a terminal
/// would obey or hide, and no key in it (both are shown escaped or masked
/// in descriptions, but a value is inserted as it stands).
fn is_plain(name: &str) -> bool {
    !name.is_empty() && Untrusted(name).to_string() == name
}

/// The services of the stored keys.
pub(super) fn service_candidates(db: Option<String>) -> Vec<CompletionCandidate> {
    let services = read_store(db, |store| store.services());
    services
        .into_iter()
        .filter(|service| crate::input::service(service).is_ok())
        .map(CompletionCandidate::new)
        .collect()
}

/// What `work` reads from the store at `db` (else the default location),
/// opened without creating it; nothing when it is missing, broken, or
/// does not answer within `DEADLINE`. The store is read on a thread of its
/// own so that the wait can be cut short: a thread still waiting then ends
/// with the process, which has written nothing.
fn read_store<T: Send + 'static>(
    db: Option<String>,
    work: impl FnOnce(&mut dyn Store) -> crate::Result<Vec<T>> + Send + 'static,
) -> Vec<T> {
    let (sender, receiver) = mpsc::channel();
    let reader = move || -> crate::Result<Vec<T>> {
        // The store the command would use: the line's --db or
        // KEYSMITH_DB, else the configuration files, else the default.
        let given = db.as_deref().map(|db| (db, crate::config::Source::Flag));
        let mut location =
            crate::config::choose(given, &crate::config::ConfigFiles::standard())?.location;
        location.limit_connect_time(DEADLINE);
        // Warnings (a store others can read) are for the commands to show.
        let mut opened = store::open_with_busy_timeout(&location, OpenMode::NoCreate, DEADLINE)?;
        work(opened.store.as_mut())
    };
    let spawned = std::thread::Builder::new().spawn(move || drop(sender.send(reader())));
    if spawned.is_err() {
        return Vec::new();
    }
    match receiver.recv_timeout(DEADLINE) {
        Ok(Ok(found)) => found,
        _ => Vec::new(),
    }
}

/// A word as the shell would read it: quotes and backslashes removed
/// (`'my keys.db'`, `"my keys.db"`, `my\ keys.db`). Expansions are not run.
pub(super) fn unquote(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut chars = word.chars();
    let mut quote = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '\\') | (Some('"'), '\\') => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            (_, c) => out.push(c),
        }
    }
    out
}

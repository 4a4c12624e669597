//! `keysmith scan`: find keysmith keys in files, folders or stdin and report
//! each with its state in this store (exit 1 when one is live), or print a
//! rule that teaches another secret scanner what a keysmith key looks like.
//!
//! Finding keys is `crate::scan`'s job; this file walks paths, asks the store
//! and prints. A found key is shown masked only, and so is any key that
//! happens to be part of a path.

use clap::{Args, ValueEnum};
use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Context;
use crate::error::{Error, Failure, Result, StoreFault};
use crate::help::examples;
use crate::key_format::{self, ParsedKey};
use crate::output::Output;
use crate::redact::Untrusted;
use crate::redact::redact;
use crate::scan;
use crate::store::{OpenMode, Status, Store, Timestamp};
use crate::time;

/// Larger files are skipped: keys live in source and config files, and the
/// cap keeps a stray disk image or database dump from stalling the scan.
const MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;
/// A NUL byte in this much of a file's start marks it binary (as git does).
const BINARY_PROBE: u64 = 8 * 1024;
/// Folders with this name are never entered: their contents are compressed
/// history, and scanning them finds nothing but costs time.
const GIT_DIR: &str = ".git";

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith scan .",
    "git diff --cached | keysmith scan",
    "keysmith scan --rules gitleaks > keysmith.gitleaks.toml",
))]
pub struct ScanArgs {
    /// Files or folders to scan (folders recursively, skipping .git); `-` or
    /// nothing reads stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,

    /// Print a rule for this scanner that finds keysmith keys, instead of scanning
    #[arg(long, value_enum, value_name = "SCANNER", conflicts_with = "paths")]
    pub rules: Option<ScannerArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScannerArg {
    Gitleaks,
    Trufflehog,
}

pub fn run(ctx: &mut Context, args: ScanArgs) -> Result<u8> {
    if let Some(scanner) = args.rules {
        return rules(ctx, scanner);
    }
    let sources = sources(args.paths)?;
    // A missing store is refused: it would call every key `unknown`.
    let store = ctx.open(OpenMode::NoCreate)?;
    let mut scan = Scan {
        out: &mut ctx.out,
        store,
        now: time::now(),
        states: HashMap::new(),
        live_keys: Vec::new(),
        files: 0,
        read_stdin: false,
        found: 0,
        live: 0,
    };
    for source in &sources {
        match source {
            Source::Stdin => scan.stdin()?,
            Source::Path(path) => scan.path(path)?,
        }
    }
    scan.summary()?;
    Ok(if scan.live > 0 { 1 } else { 0 })
}

enum Source {
    Stdin,
    Path(PathBuf),
}

/// The inputs, checked before anything is scanned, so that a mistyped path
/// fails at once rather than after a partial report.
fn sources(paths: Vec<PathBuf>) -> Result<Vec<Source>> {
    if paths.is_empty() {
        if io::stdin().is_terminal() {
            return Err(Error::Usage(
                "nothing to scan: name files or folders (keysmith scan .) or pipe text on stdin"
                    .into(),
            ));
        }
        return Ok(vec![Source::Stdin]);
    }
    paths
        .into_iter()
        .map(|path| {
            if path.as_os_str() == "-" {
                return Ok(Source::Stdin);
            }
            match fs::metadata(&path) {
                Ok(_) => Ok(Source::Path(path)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::failed(
                    Failure::File,
                    format!("{}: no such file or folder", shown(&path)),
                )),
                Err(e) => Err(Error::failed(
                    Failure::File,
                    format!("cannot read {}: {e}", shown(&path)),
                )),
            }
        })
        .collect()
}

/// A path as printed for people: keys masked, control characters escaped.
fn shown(path: &Path) -> String {
    Untrusted(&path.to_string_lossy()).to_string()
}

/// A key's state in this store, as `scan` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Stored, the hash matches and it is enabled: whoever holds it can use it.
    Live,
    Disabled,
    Expired,
    /// Not in this store, or its id is but the secret differs.
    Unknown,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Live => "live",
            State::Disabled => "disabled",
            State::Expired => "expired",
            State::Unknown => "unknown",
        }
    }
}

/// One finding in `--json` mode (JSON Lines).
#[derive(Serialize)]
struct FindingJson<'a> {
    file: &'a str,
    line: usize,
    masked: String,
    id: &'a str,
    state: &'static str,
    /// The stored key's name; null when the store does not know the key.
    name: Option<&'a str>,
}

/// A live key found, for the advice at the end.
struct LiveKey {
    id: String,
    name: String,
    /// Set when it was rotated and is in its grace period.
    replaced_by: Option<String>,
}

/// One run of the scan: where to print, what the store said, what was found.
struct Scan<'a> {
    out: &'a mut Output,
    store: Box<dyn Store>,
    now: Timestamp,
    /// Each distinct key is looked up once, however often it appears.
    states: HashMap<(String, [u8; 32]), (State, Option<String>)>,
    /// The live keys found, each once, in the order met: (id, name).
    live_keys: Vec<LiveKey>,
    files: u64,
    read_stdin: bool,
    found: u64,
    live: u64,
}

impl Scan<'_> {
    fn stdin(&mut self) -> Result<()> {
        self.read_stdin = true;
        self.read("-", io::stdin().lock())
    }

    /// A path named on the command line: a folder is walked; anything else is
    /// read, even a pipe such as `<(git log -p)`. Symbolic links are followed
    /// here, since the user named them.
    fn path(&mut self, path: &Path) -> Result<()> {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => self.walk(path),
            Ok(meta) => self.file(path, &meta, true),
            Err(e) => self.skip(path, &e.to_string()),
        }
    }

    /// Walks a folder depth-first in name order, so reports are stable.
    /// Folders named `.git` are skipped, and symbolic links to folders are
    /// not followed (they could loop, or lead out of the tree).
    fn walk(&mut self, root: &Path) -> Result<()> {
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let entries = match sorted_entries(&dir) {
                Ok(entries) => entries,
                Err(e) => {
                    self.skip(&dir, &e.to_string())?;
                    continue;
                }
            };
            let mut folders = Vec::new();
            for (path, kind) in entries {
                if kind.is_dir() {
                    if path.file_name().is_none_or(|name| name != GIT_DIR) {
                        folders.push(path);
                    }
                } else if kind.is_symlink() {
                    // Followed to a file only; a broken link holds nothing.
                    if let Ok(meta) = fs::metadata(&path)
                        && meta.is_file()
                    {
                        self.file(&path, &meta, false)?;
                    }
                } else if kind.is_file() {
                    match fs::metadata(&path) {
                        Ok(meta) => self.file(&path, &meta, false)?,
                        Err(e) => self.skip(&path, &e.to_string())?,
                    }
                } else {
                    self.skip(&path, "not a regular file")?;
                }
            }
            pending.extend(folders.into_iter().rev());
        }
        Ok(())
    }

    /// Reads one file, unless it is too large or binary. A binary file met
    /// while walking a folder is passed over silently (images, archives and
    /// build output are common and hold no text); one named on the command
    /// line gets a warning.
    fn file(&mut self, path: &Path, meta: &Metadata, named: bool) -> Result<()> {
        if meta.is_file() && meta.len() > MAX_FILE_SIZE {
            return self.skip(path, "larger than 10 MiB");
        }
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) => return self.skip(path, &e.to_string()),
        };
        let mut head = Vec::new();
        if let Err(e) = (&mut file).take(BINARY_PROBE).read_to_end(&mut head) {
            return self.skip(path, &e.to_string());
        }
        if head.contains(&0) {
            return if named {
                self.skip(path, "binary file")
            } else {
                Ok(())
            };
        }
        self.files += 1;
        let name = redact(&path.to_string_lossy()).into_owned();
        self.read(&name, io::Cursor::new(head).chain(file))
    }

    /// Scans everything `input` yields and reports each key found in it,
    /// a window at a time (`scan::KeyReader`), so memory stays bounded.
    fn read(&mut self, name: &str, input: impl Read) -> Result<()> {
        for window in scan::KeyReader::new(input) {
            match window {
                Ok(keys) => {
                    for found in keys {
                        self.report(name, found.line, &found.key)?;
                    }
                }
                Err(e) => {
                    return self.warn(&format!(
                        "could not finish reading {}: {e}",
                        Untrusted(name)
                    ));
                }
            }
        }
        Ok(())
    }

    fn report(&mut self, file: &str, line: usize, key: &ParsedKey) -> Result<()> {
        let (state, name) = self.state(key)?;
        self.found += 1;
        if state == State::Live {
            self.live += 1;
        }
        if self.out.json {
            self.out.json_line(&FindingJson {
                file,
                line,
                masked: key.masked(),
                id: &key.id,
                state: state.as_str(),
                name: name.as_deref(),
            })
        } else {
            // The line stays `FILE:LINE: MASKED STATE`, for grep and awk;
            // the advice below names the live keys.
            self.out.line(&format!(
                "{}:{line}: {} {}",
                Untrusted(file),
                key.masked(),
                state.as_str()
            ))
        }
    }

    /// What this store says about a key, and its name when it knows it,
    /// asking it once per distinct key.
    fn state(&mut self, key: &ParsedKey) -> Result<(State, Option<String>)> {
        let cache_key = (key.id.clone(), key.hash.0);
        if let Some(known) = self.states.get(&cache_key) {
            return Ok(known.clone());
        }
        let known = match self.store.key_by_id(&key.id)? {
            Some(record) if record.hash.matches(&key.hash) => {
                let state = match record.status(self.now) {
                    Status::Enabled => State::Live,
                    Status::Disabled => State::Disabled,
                    Status::Expired => State::Expired,
                };
                if state == State::Live {
                    self.live_keys.push(LiveKey {
                        id: record.id.clone(),
                        name: record.name.clone(),
                        replaced_by: record.replaced_by.clone(),
                    });
                }
                (state, Some(record.name))
            }
            // Right id, different secret: not a key this store issued.
            _ => (State::Unknown, None),
        };
        self.states.insert(cache_key, known.clone());
        Ok(known)
    }

    fn skip(&mut self, path: &Path, reason: &str) -> Result<()> {
        self.warn(&format!("skipped {}: {reason}", shown(path)))
    }

    fn warn(&mut self, text: &str) -> Result<()> {
        self.out.notice(&format!("warning: {text}"))
    }

    /// One line for the person at the terminal; JSON output stays data only.
    fn summary(&mut self) -> Result<()> {
        if self.out.json {
            return Ok(());
        }
        let scanned = match (self.files, self.read_stdin) {
            (0, true) => "stdin".to_owned(),
            (n, true) => format!("{} and stdin", plural(n, "file")),
            (n, false) => plural(n, "file"),
        };
        if self.found == 0 {
            return self
                .out
                .notice(&format!("No keysmith keys found ({scanned} scanned)."));
        }
        self.out.notice(&format!(
            "{} found, {} live ({scanned} scanned).",
            plural(self.found, "key"),
            self.live
        ))?;
        // What to do, with the ids to do it with: a few by name, then how
        // to get every one.
        const NAMED: usize = 5;
        let live = std::mem::take(&mut self.live_keys);
        if let [key] = live.as_slice() {
            let id = Untrusted(&key.id);
            let name = Untrusted(&key.name);
            let advice = match &key.replaced_by {
                // Already rotated, in its grace period: the replacement is
                // out; what is left is to end the grace now.
                Some(by) => format!(
                    "Key {id} (\"{name}\") is live and may have leaked; it was already replaced \
                     by {}, and stays valid until its grace period ends: switch it off now with \
                     `keysmith disable {id}`.",
                    Untrusted(by)
                ),
                None => format!(
                    "Key {id} (\"{name}\") is live and may have leaked: switch it off with \
                     `keysmith disable {id}`, then replace it with `keysmith rotate {id}`."
                ),
            };
            self.out.notice(&advice)?;
        } else if !live.is_empty() {
            self.out.notice(&format!(
                "{} live keys may have leaked: switch each off with `keysmith disable ID`, \
                 then replace it with `keysmith rotate ID` (a key already replaced needs only \
                 the first):",
                live.len()
            ))?;
            for key in live.iter().take(NAMED) {
                let replaced = key.replaced_by.as_deref().map_or(String::new(), |by| {
                    format!("  (already replaced by {})", Untrusted(by))
                });
                self.out.notice(&format!(
                    "  {}  \"{}\"{replaced}",
                    Untrusted(&key.id),
                    Untrusted(&key.name)
                ))?;
            }
            if live.len() > NAMED {
                self.out.notice(&format!(
                    "  and {} more: keysmith --json scan ... | jq -r 'select(.state == \"live\") | .id'",
                    live.len() - NAMED
                ))?;
            }
        }
        Ok(())
    }
}

/// A folder's entries with their kinds (symbolic links not followed), by name.
fn sorted_entries(dir: &Path) -> io::Result<Vec<(PathBuf, fs::FileType)>> {
    let mut entries = fs::read_dir(dir)?
        .map(|entry| {
            let entry = entry?;
            Ok((entry.path(), entry.file_type()?))
        })
        .collect::<io::Result<Vec<_>>>()?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The `--rules` output in `--json` mode: the rule plus its parts, for scripts.
#[derive(Serialize)]
struct RulesJson<'a> {
    scanner: &'static str,
    regex: &'a str,
    keywords: &'a [String],
    rule: &'a str,
}

/// Prints a rule for another scanner, matching the prefixes of this store's
/// keys (the default prefix when it has none). Writes nothing.
fn rules(ctx: &mut Context, scanner: ScannerArg) -> Result<u8> {
    // The store's prefixes when there is a store; a rule needs none
    // (docs/src/store.md: `scan --rules` works without a store).
    let stored = match ctx.open(OpenMode::NoCreate) {
        Ok(mut store) => store.prefixes()?,
        Err(e) if e.store_fault() == Some(StoreFault::Missing) => Vec::new(),
        Err(e) => return Err(e),
    };
    // Prefixes were validated on the way in; checking again keeps a tampered
    // store from injecting regex syntax into the rule.
    let mut prefixes: Vec<String> = stored
        .into_iter()
        .filter(|p| key_format::is_valid_prefix(p))
        .collect();
    if prefixes.is_empty() {
        prefixes.push(key_format::DEFAULT_PREFIX.to_owned());
    }
    let (name, rule) = match scanner {
        ScannerArg::Gitleaks => ("gitleaks", scan::gitleaks_rule(&prefixes)),
        ScannerArg::Trufflehog => ("trufflehog", scan::trufflehog_detector(&prefixes)),
    };
    if ctx.out.json {
        ctx.out.json_line(&RulesJson {
            scanner: name,
            regex: &scan::rule_pattern(&prefixes),
            keywords: &scan::rule_keywords(&prefixes),
            rule: &rule,
        })?;
    } else {
        ctx.out.line(&rule)?;
    }
    Ok(0)
}

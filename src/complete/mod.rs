//! Dynamic shell completion: after `source <(COMPLETE=bash keysmith)` the
//! shell runs `COMPLETE=bash keysmith -- WORDS...` at each Tab, and the
//! candidates come from the store the line being typed points at: for
//! every `<KEY>` selector the keys that fit the subcommand (`disable` offers
//! enabled keys, `enable` disabled ones), as ids described by name and
//! status where the shell shows descriptions (zsh, fish), as names in bash,
//! and a typed prefix of a name completes to the name, quoted for the
//! shell; and the stored services for every `--service`. clap_complete's
//! engine parses the words; each argument says what completes it where it
//! is declared (`#[arg(add = complete::keys(..))]`, `complete::services()`),
//! with the completers this module makes, which read the store without
//! ever creating it, printing an error, waiting long or showing a secret.
//!
//! It relies on clap_complete's `unstable-dynamic` feature, which may
//! change in any release: `CompleteEnv` and its `Shells`/`EnvCompleter`,
//! and the `engine` types `ArgValueCandidates`, `ArgValueCompleter` and
//! `CompletionCandidate`; and on the words the registration scripts of
//! that version pass. So the dependency is pinned to one version
//! (Cargo.toml), and `tests/cli/completions.rs` drives a real bash.

use std::ffi::{OsStr, OsString};

use clap::CommandFactory;
use clap_complete::CompleteEnv;
use clap_complete::env::{Elvish, EnvCompleter, Fish, Powershell, Shells, Zsh};

use crate::redact::Untrusted;

pub mod candidates;
use candidates::{BASH_QUOTE_VAR, Quoting, unquote};

/// The variable that asks for completion, as clap_complete's scripts set it.
const VAR: &str = "COMPLETE";

/// The shells that can ask; `COMPLETE` set to anything else (another
/// tool's setting of that generic name) is not a request.
const SHELLS: [&str; 5] = ["bash", "elvish", "fish", "powershell", "zsh"];

/// Whether the shell is asking for completions (or for its registration
/// script): a single look at the environment, so that every ordinary run
/// costs nothing more.
pub fn requested() -> bool {
    std::env::var_os(VAR).is_some_and(|shell| SHELLS.iter().any(|s| shell == *s))
}

/// Answers the request `requested` saw: the registration script when no
/// words follow, else the candidates for the word being typed. The exit code.
pub fn run(args: Vec<OsString>) -> u8 {
    let shell = std::env::var_os(VAR).unwrap_or_default();
    let words = words(&args);
    let db = if shell == "bash" {
        db_on_line(&glue(words, usize::MAX).0, &shell)
    } else {
        db_on_line(words, &shell)
    }
    .or_else(|| std::env::var("KEYSMITH_DB").ok());
    let is_request = !words.is_empty();
    let current_dir = std::env::current_dir().ok();
    let quoting = Quoting::of(&shell);
    let factory = move || command(db.clone(), quoting);
    let completed = CompleteEnv::with_factory(factory)
        .shells(Shells(&[&Bash, &Elvish, &Fish, &Powershell, &Zsh]))
        .try_complete(args, current_dir.as_deref());
    match completed {
        Ok(_) => 0,
        // Mid-line, the shell would show any message on the terminal: a
        // failed completion is no completion, quietly.
        Err(_) if is_request => 1,
        Err(e) => {
            eprintln!(
                "error: cannot write the {} completion script: {e}",
                Untrusted(&shell.to_string_lossy())
            );
            2
        }
    }
}

/// clap_complete's bash, with the words put back together first. Bash
/// splits the line at `=`, `:` and `@` as well (COMP_WORDBREAKS): `--db=/x`
/// reaches the completer as `--db`, `=`, `/x`, which clap's engine reads as
/// `--db =` and a positional `/x`, and `postgres://u@h` as `postgres`, `:`,
/// `//u`, `@`, `h`. Bash replaces only its own last word with a candidate,
/// so what was glued before it is taken off the candidates again.
struct Bash;

impl EnvCompleter for Bash {
    fn name(&self) -> &'static str {
        clap_complete::env::Bash.name()
    }

    fn is(&self, name: &str) -> bool {
        clap_complete::env::Bash.is(name)
    }

    fn write_registration(
        &self,
        var: &str,
        name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        let mut script = Vec::new();
        clap_complete::env::Bash.write_registration(var, name, bin, completer, &mut script)?;
        let script = String::from_utf8_lossy(&script);
        // Also pass the word's opening quote, if any (see `BASH_QUOTE_VAR`).
        let asks = format!("{var}=\"bash\" \\\n");
        let with_quote =
            format!("{BASH_QUOTE_VAR}=\"${{COMP_WORDS[COMP_CWORD]:0:1}}\" \\\n        {asks}");
        buf.write_all(script.replacen(&asks, &with_quote, 1).as_bytes())
    }

    fn write_complete(
        &self,
        cmd: &mut clap::Command,
        args: Vec<OsString>,
        current_dir: Option<&std::path::Path>,
        buf: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        // What the registration script passes, as clap_complete's Bash reads it.
        let index = std::env::var("_CLAP_COMPLETE_INDEX")
            .ok()
            .and_then(|i| i.parse().ok())
            .unwrap_or_default();
        let ifs = std::env::var("_CLAP_IFS").unwrap_or_else(|_| "\n".into());
        let (args, index, before) = glue(&args, index);
        let candidates = clap_complete::engine::complete(cmd, args, index, current_dir)?;
        let values = candidates.iter().filter_map(|candidate| {
            let value = candidate.get_value().to_string_lossy();
            value.strip_prefix(before.as_str()).map(str::to_owned)
        });
        for (i, value) in values.enumerate() {
            if i > 0 {
                buf.write_all(ifs.as_bytes())?;
            }
            buf.write_all(value.as_bytes())?;
        }
        Ok(())
    }
}

/// Bash's words with every `=`, `:` or `@` (or run of them) joined to the
/// words either side; with where word `index` went, and the text of its
/// joined word before it.
fn glue(words: &[OsString], index: usize) -> (Vec<OsString>, usize, String) {
    let is_break = |w: &OsString| {
        w.to_str()
            .is_some_and(|w| !w.is_empty() && w.chars().all(|c| matches!(c, '=' | ':' | '@')))
    };
    let mut glued: Vec<OsString> = Vec::with_capacity(words.len());
    let mut at = index;
    let mut before = String::new();
    let mut join_next = false;
    for (i, word) in words.iter().enumerate() {
        let joins = (join_next || is_break(word)) && !glued.is_empty();
        join_next = is_break(word);
        if i == index {
            at = glued.len() - usize::from(joins);
        }
        match glued.last_mut() {
            Some(last) if joins => {
                if i == index {
                    before = last.to_string_lossy().into_owned();
                }
                last.push(word);
            }
            _ => glued.push(word.clone()),
        }
    }
    (glued, at, before)
}

/// The words of the line being completed (`keysmith show ...`): what
/// follows the first `--` of `keysmith -- keysmith show ...`.
fn words(args: &[OsString]) -> &[OsString] {
    match args.iter().position(|a| a == "--") {
        Some(at) => &args[at + 1..],
        None => &[],
    }
}

/// The CLI, fully defined (the `Deferred` subcommand arguments too: the
/// engine reads every subcommand's), for completing a line that reads the
/// store at `db`, for a shell that quotes as `quoting` says.
fn command(db: Option<String>, quoting: Quoting) -> clap::Command {
    candidates::set_line(db, quoting);
    let mut cmd = crate::cli::Cli::command();
    cmd.build();
    cmd
}

/// The store the words name with `--db PATH` or `--db=PATH` (the last
/// one, as clap would take it), up to a `--` that ends the options.
fn db_on_line(words: &[OsString], shell: &OsStr) -> Option<String> {
    let mut found = None;
    let mut words = words.iter().skip(1).map(|w| w.to_str().unwrap_or(""));
    while let Some(word) = words.next() {
        if word == "--" {
            break;
        }
        if let Some(value) = word.strip_prefix("--db=") {
            found = Some(value);
        } else if word == "--db" {
            found = words.next();
        }
    }
    // Bash and zsh pass the words as typed; fish passes them unquoted.
    let value = if shell == "bash" || shell == "zsh" {
        unquote(found?)
    } else {
        found?.to_owned()
    };
    Some(match value.strip_prefix("~/") {
        Some(rest) => match std::env::var_os("HOME") {
            Some(home) => std::path::Path::new(&home).join(rest).display().to_string(),
            None => value,
        },
        None => value,
    })
}

#[cfg(test)]
mod tests;

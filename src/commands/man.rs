//! `keysmith man`: the manual pages clap_mangen derives from the CLI, with
//! each subcommand's examples. `keysmith man` prints keysmith(1), `keysmith
//! man SUBCOMMAND` that subcommand's page, and `--dir DIR` writes them all
//! (keysmith.1, keysmith-create.1, ...) for `man` to find.

use clap::Args;
use std::io::Write;
use std::path::Path;

use clap_mangen::roff::{Roff, bold, italic, roman};

use super::Context;
use crate::error::{Error, Failure, Result};
use crate::help::examples;
use crate::redact::Untrusted;

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith man --dir ~/.local/share/man/man1",
    "keysmith man create | man -l -",
))]
pub struct ManArgs {
    /// Print this subcommand's page (keysmith-SUBCOMMAND.1) instead
    #[arg(value_name = "SUBCOMMAND")]
    pub command: Option<String>,

    /// Write keysmith.1 and a page per subcommand (keysmith-create.1, ...)
    /// into DIR, made if missing, instead of printing one
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub dir: Option<std::path::PathBuf>,
}

/// Prints or writes the pages of the command line `full` (`cli::Cli`'s,
/// handed down by `cli::run`: the commands sit below the command line).
pub fn run(ctx: &mut Context, args: ManArgs, full: clap::Command) -> Result<u8> {
    let top = command(full);
    let Some(dir) = args.dir else {
        let page = match args.command.as_deref() {
            None => render(&top, None),
            Some(name) => render(subcommand(&top, name)?, Some(&top)),
        };
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&page).map_err(Error::output)?;
        stdout.flush().map_err(Error::output)?;
        return Ok(0);
    };
    let written = write_all(&top, &dir)?;
    if ctx.out.json {
        ctx.out.json_line(&serde_json::json!({
            "dir": dir.display().to_string(),
            "pages": written,
        }))?;
    } else {
        ctx.out.notice(&format!(
            "Wrote {} manual pages to {}",
            written.len(),
            dir.display()
        ))?;
    }
    Ok(0)
}

/// The CLI as the pages describe it: fully defined (the deferred
/// subcommand arguments too), without the `help` subcommand, which needs
/// no page.
fn command(full: clap::Command) -> clap::Command {
    let mut cmd = full.disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The pages' subcommands: the visible ones.
fn subcommands(top: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    top.get_subcommands().filter(|s| !s.is_hide_set())
}

fn subcommand<'a>(top: &'a clap::Command, name: &str) -> Result<&'a clap::Command> {
    subcommands(top)
        .find(|s| s.get_name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = subcommands(top).map(|s| s.get_name()).collect();
            Error::Usage(format!(
                "keysmith has no subcommand '{}'; pages exist for: {}",
                Untrusted(name),
                names.join(", ")
            ))
        })
}

/// Writes keysmith.1 and a page per subcommand into `dir` (made if
/// missing); the names of the files written.
fn write_all(top: &clap::Command, dir: &Path) -> Result<Vec<String>> {
    let fail = |why: &dyn std::fmt::Display| {
        Error::failed(
            Failure::File,
            format!(
                "cannot write the manual pages into {}: {why}",
                Untrusted(&dir.display().to_string())
            ),
        )
    };
    if dir.exists() && !dir.is_dir() {
        return Err(fail(
            &"it is not a folder; pass --dir a folder (made if missing)",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    let mut written = Vec::new();
    let pages = std::iter::once((top, None)).chain(subcommands(top).map(|s| (s, Some(top))));
    for (cmd, parent) in pages {
        let name = format!("{}.1", cmd.get_display_name().unwrap_or(cmd.get_name()));
        replace_file(dir, &name, &render(cmd, parent)).map_err(|e| fail(&e))?;
        written.push(name);
    }
    Ok(written)
}

/// Puts `bytes` at `dir/name` as a new file: written beside it under a
/// temporary name, then renamed over it. Whatever stood there is replaced,
/// not written into: a symlink planted in a shared man folder cannot send
/// the page (written as root, by the `sudo` example of docs/src/commands/man.md) into a file
/// elsewhere, and a reader never sees half a page.
fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut file = tempfile::Builder::new()
        .prefix(".keysmith-man-")
        // As `fs::write` would make it: readable by all, less the umask.
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}

/// One page in roff: clap_mangen's sections (its SYNOPSIS replaced by one
/// that shows each option's value), then EXIT STATUS, ENVIRONMENT, FILES,
/// EXAMPLES (the help's `Examples:`, under the name man pages give them)
/// and, on a subcommand's page, SEE ALSO keysmith(1).
fn render(cmd: &clap::Command, parent: Option<&clap::Command>) -> Vec<u8> {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name());
    let examples = cmd.get_after_help().map(|text| text.to_string());
    // clap_mangen would print the examples under "EXTRA", and a VERSION
    // section after them: the version is in the page's footer instead.
    let bare = cmd.clone().after_help(None::<&str>).version(None::<&str>);
    let man = clap_mangen::Man::new(bare)
        .title(name.to_uppercase())
        .source(concat!("keysmith ", env!("CARGO_PKG_VERSION")));
    // Each rendering first defines the string for apostrophes: kept from
    // the title's, cut from the others.
    let section = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut out = Vec::new();
        render(&mut out).expect("writing to memory cannot fail");
        let out = String::from_utf8_lossy(&out).into_owned();
        out.find(".SH")
            .map_or(String::new(), |at| out[at..].to_owned())
    };
    let mut page = Vec::new();
    man.render_title(&mut page)
        .expect("writing to memory cannot fail");
    page.extend_from_slice(section(&|w| man.render_name_section(w)).as_bytes());
    page.extend_from_slice(synopsis(cmd).as_bytes());
    page.extend_from_slice(section(&|w| man.render_description_section(w)).as_bytes());
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        page.extend_from_slice(section(&|w| man.render_options_section(w)).as_bytes());
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        page.extend_from_slice(section(&|w| man.render_subcommands_section(w)).as_bytes());
    }

    let mut tail = Roff::new();
    reference_sections(&mut tail);
    let lines: Vec<&str> = examples
        .iter()
        .flat_map(|text| text.lines())
        .map(str::trim)
        .filter(|line| !line.is_empty() && *line != "Examples:")
        .collect();
    if !lines.is_empty() {
        tail.control("SH", ["EXAMPLES"]);
        // Unfilled: a command line is not wrapped or justified.
        for line in lines {
            tail.control("PP", [])
                .control("nf", [])
                .text([bold(line)])
                .control("fi", []);
        }
    }
    if let Some(parent) = parent {
        let parent = parent.get_display_name().unwrap_or(parent.get_name());
        tail.control("SH", ["SEE ALSO"])
            .text([bold(parent), roman("(1)")]);
    }
    page.extend_from_slice(section(&|w| w.write_all(tail.render().as_bytes())).as_bytes());
    page
}

/// SYNOPSIS with every option's value (`[--name NAME]`, `[--scope SCOPE]
/// ...`): clap_mangen shows the flags alone, which reads as if `--name`
/// took nothing. Written with the man macros for synopses (`.SY`, `.OP`,
/// `.YS`), which keep each option whole on a line and indent the rest
/// under the command's name.
fn synopsis(cmd: &clap::Command) -> String {
    let mut out = String::from(".SH SYNOPSIS\n");
    let name = cmd.get_bin_name().unwrap_or(cmd.get_name());
    out.push_str(&format!(".SY \"{}\"\n", roff_text(name)));
    let shown = |a: &&clap::Arg| !a.is_hide_set() && !a.is_positional();
    // The subcommand's own options, then the global ones, as in its help.
    let (own, global): (Vec<&clap::Arg>, Vec<&clap::Arg>) = cmd
        .get_arguments()
        .filter(shown)
        .partition(|a| a.get_help_heading().is_none());
    for arg in own.into_iter().chain(global) {
        let flag = match (arg.get_short(), arg.get_long()) {
            (Some(short), Some(long)) => format!("-{short}|--{long}"),
            (Some(short), None) => format!("-{short}"),
            (None, Some(long)) => format!("--{long}"),
            (None, None) => continue,
        };
        let value = arg
            .get_action()
            .takes_values()
            .then(|| roff_text(&value_name(arg)));
        if arg.is_required_set() {
            // `\~`: a space no line is broken at.
            out.push_str(&format!("\\fB{}\\fR", roff_text(&flag)));
            if let Some(value) = value {
                out.push_str(&format!("\\~\\fI{value}\\fR"));
            }
            out.push('\n');
        } else {
            out.push_str(&format!(".OP {}", roff_text(&flag)));
            if let Some(value) = value {
                out.push_str(&format!(" {value}"));
            }
            out.push('\n');
        }
        if matches!(arg.get_action(), clap::ArgAction::Append) {
            out.push_str("\\&...\n");
        }
    }
    for arg in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        let value = roff_text(&value_name(arg));
        let repeated = if matches!(arg.get_action(), clap::ArgAction::Append) {
            "\\&..."
        } else {
            ""
        };
        if arg.is_required_set() {
            out.push_str(&format!("\\fI{value}\\fR{repeated}\n"));
        } else {
            out.push_str(&format!("[\\fI{value}\\fR]{repeated}\n"));
        }
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        out.push_str("\\fICOMMAND\\fR\n");
    }
    out.push_str(".YS\n");
    out
}

/// `text` as roff prints it: backslashes and hyphens escaped (names and
/// values from the CLI's own definition, nothing a user typed).
fn roff_text(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}

/// What an option's value is called in the help (`NAME`, `PATH|URL`).
fn value_name(arg: &clap::Arg) -> String {
    match arg.get_value_names() {
        Some(names) if !names.is_empty() => names.join(" "),
        _ => arg.get_id().as_str().to_uppercase(),
    }
}

/// The exit codes (docs/src/exit-codes.md).
const EXIT_STATUS: [(&str, &str); 5] = [
    ("0", "Success; for verify, the key is valid."),
    (
        "1",
        "The answer is no: verify rejected the key, scan found live keys, list \
         --exit-code listed keys, or a confirmation was declined (nothing changed).",
    ),
    ("2", "Usage error or invalid input."),
    (
        "3",
        "No such key: the selector matches nothing, or a name matches several keys \
         (the message lists their ids).",
    ),
    (
        "4",
        "The store cannot be used: missing, unreadable, not a keysmith store, corrupt, of a \
         newer schema, or permission denied.",
    ),
];

/// The variables keysmith reads.
const ENVIRONMENT: [(&str, &str); 10] = [
    (
        "KEYSMITH_DB",
        "The store (a SQLite file path or a postgres:// URL) when --db names none.",
    ),
    (
        "KEYSMITH_CONFIG_SYSTEM",
        "The host's configuration file, in place of /etc/keysmith/config.toml.",
    ),
    (
        "XDG_CONFIG_HOME",
        "Where the user's configuration file lives (see FILES).",
    ),
    (
        "KEYSMITH_PREFIX",
        "The prefix of new keys when --prefix gives none.",
    ),
    (
        "KEYSMITH_CLIP_TIME",
        "How many seconds a key put on the clipboard by --copy stays there: 1 to \
         86400, 45 by default.",
    ),
    (
        "DISPLAY",
        "With --copy: the X11 display whose clipboard takes the key; without one, \
         the terminal's clipboard takes it (OSC 52).",
    ),
    (
        "TMUX",
        "Set inside tmux: --copy also deletes the paste buffer tmux made of the key \
         when the time is up.",
    ),
    (
        "NO_COLOR",
        "Set to anything: no colour, even on a terminal.",
    ),
    (
        "XDG_DATA_HOME",
        "Where the default store lives (see FILES).",
    ),
    (
        "COMPLETE",
        "Set by a shell's completion script (source <(COMPLETE=bash keysmith)) to \
         ask for completions.",
    ),
];

/// EXIT STATUS, ENVIRONMENT and FILES: the same on every page, each of
/// which a reader may open alone.
fn reference_sections(roff: &mut Roff) {
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in EXIT_STATUS {
        roff.control("TP", [])
            .text([bold(code)])
            .text([roman(meaning)]);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in ENVIRONMENT {
        roff.control("TP", [])
            .text([bold(name)])
            .text([roman(meaning)]);
    }
    roff.control("SH", ["FILES"])
        .control("TP", [])
        .text([italic("$XDG_CONFIG_HOME/keysmith/config.toml")])
        .text([roman(
            "The user's configuration file (XDG_CONFIG_HOME is ~/.config when unset): \
             db names the store when neither --db nor KEYSMITH_DB does.",
        )])
        .control("TP", [])
        .text([italic("/etc/keysmith/config.toml")])
        .text([roman(
            "The host's configuration file, read after the user's: db names the store \
             for every user of the host and for serve.",
        )])
        .control("TP", [])
        .text([italic("$XDG_DATA_HOME/keysmith/keys.db")])
        .text([roman(
            "The store when neither --db, KEYSMITH_DB nor a configuration file names \
             one (XDG_DATA_HOME is ~/.local/share when unset), with its -wal and -shm \
             files beside it while in use. Mode 0600; a folder keysmith makes is 0700.",
        )]);
}

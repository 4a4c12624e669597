//! `keysmith man`: the manual pages clap_mangen derives from the CLI, with
//! each subcommand's examples. `keysmith man` prints keysmith(1), `keysmith
//! man SUBCOMMAND` that subcommand's page, and `--dir DIR` writes them all
//! (keysmith.1, keysmith-create.1, ...) for `man` to find.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_mangen::roff::{Roff, bold, roman};

use super::Context;
use crate::cli::{Cli, ManArgs};
use crate::error::{Error, Result};
use crate::redact::Untrusted;

pub fn run(ctx: &mut Context, args: ManArgs) -> Result<u8> {
    let top = command();
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
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
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
        Error::Usage(format!(
            "cannot write the manual pages into {}: {why}",
            Untrusted(&dir.display().to_string())
        ))
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
        std::fs::write(dir.join(&name), render(cmd, parent)).map_err(|e| fail(&e))?;
        written.push(name);
    }
    Ok(written)
}

/// One page in roff: clap_mangen's sections, then EXAMPLES (the help's
/// `Examples:`, under the name man pages give them) and, on a subcommand's
/// page, SEE ALSO keysmith(1).
fn render(cmd: &clap::Command, parent: Option<&clap::Command>) -> Vec<u8> {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name());
    let examples = cmd.get_after_help().map(|text| text.to_string());
    // clap_mangen would print the examples under "EXTRA", and a VERSION
    // section after them: the version is in the page's footer instead.
    let bare = cmd.clone().after_help(None::<&str>).version(None::<&str>);
    let mut page = Vec::new();
    clap_mangen::Man::new(bare)
        .title(name.to_uppercase())
        .source(concat!("keysmith ", env!("CARGO_PKG_VERSION")))
        .render(&mut page)
        .expect("writing to memory cannot fail");

    let mut tail = Roff::new();
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
    let tail = tail.render();
    // Each rendering first defines the string for apostrophes; once is enough.
    let body = tail.find("\n.SH").map_or("", |at| &tail[at + 1..]);
    page.extend_from_slice(body.as_bytes());
    page
}

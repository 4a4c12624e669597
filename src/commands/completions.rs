//! `keysmith completions <shell>`: the script clap_complete derives from the CLI.

use clap::Args;

use super::Context;
use crate::error::{Error, Result};
use crate::help::examples;

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "source <(COMPLETE=bash keysmith)",
    r#"keysmith completions zsh > "${fpath[1]}/_keysmith""#,
    "keysmith completions fish > ~/.config/fish/completions/keysmith.fish",
))]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the script for the command line `full` (`cli::Cli`'s, handed
/// down by `cli::run`: the commands sit below the command line).
pub fn run(_ctx: &mut Context, args: CompletionsArgs, full: clap::Command) -> Result<u8> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut visible_cli(full), "keysmith", &mut script);
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script).map_err(Error::output)?;
    Ok(0)
}

/// The CLI without its hidden subcommands (the clipboard keeper), which
/// clap_complete's scripts would offer too (clap issue 1335). clap cannot
/// remove a subcommand, so the root is put together again from the same
/// parts (its arguments and subcommands are not restated, so they cannot
/// drift from `Cli`).
fn visible_cli(full: clap::Command) -> clap::Command {
    let mut root = clap::Command::new("keysmith")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(full.is_propagate_version_set())
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        root = root.about(about.clone());
    }
    root
}

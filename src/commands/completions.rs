//! `keysmith completions <shell>`: the script clap_complete derives from the CLI.

use clap::CommandFactory;

use super::Context;
use crate::cli::{Cli, CompletionsArgs};
use crate::error::{Error, Result};

pub fn run(_ctx: &mut Context, args: CompletionsArgs) -> Result<u8> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "keysmith", &mut script);
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script).map_err(Error::output)?;
    Ok(0)
}

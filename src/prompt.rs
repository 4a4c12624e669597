//! Questions asked at a terminal. Every prompt needs stdin and stderr to be
//! terminals; callers check `can_prompt` and otherwise name the flag to pass.

use std::io::{self, IsTerminal};

use dialoguer::{Confirm, Input, Password};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

pub fn can_prompt() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

fn prompt_failed(e: dialoguer::Error) -> Error {
    let dialoguer::Error::IO(io) = e;
    // Ctrl-C or a closed terminal while asking: treat as "no".
    if matches!(
        io.kind(),
        io::ErrorKind::Interrupted | io::ErrorKind::UnexpectedEof
    ) {
        Error::Declined
    } else {
        Error::input(io)
    }
}

/// Asks for text until `check` accepts it; returns what `check` made of it.
pub fn text<T>(label: &str, allow_empty: bool, check: impl Fn(&str) -> Result<T>) -> Result<T> {
    let answer: String = Input::new()
        .with_prompt(label)
        .allow_empty(allow_empty)
        .validate_with(|input: &String| check(input).map(|_| ()).map_err(|e| e.to_string()))
        .interact()
        .map_err(prompt_failed)?;
    check(&answer)
}

pub fn confirm(question: &str, default: bool) -> Result<bool> {
    Confirm::new()
        .with_prompt(question)
        .default(default)
        .interact()
        .map_err(prompt_failed)
}

/// Reads a secret without echoing it.
pub fn secret(label: &str) -> Result<Zeroizing<String>> {
    Password::new()
        .with_prompt(label)
        .allow_empty_password(true)
        .interact()
        .map(Zeroizing::new)
        .map_err(prompt_failed)
}

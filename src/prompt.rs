//! Questions asked at a terminal. Every prompt needs stdin and stderr to be
//! terminals; callers check `can_prompt` and otherwise name the flag to pass.

use std::io::{self, IsTerminal};

use dialoguer::{Confirm, Input, Password};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

pub fn can_prompt() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// The terminal as it was before any prompt, put back by Ctrl-C.
static TERMINAL: std::sync::Mutex<Option<rustix::termios::Termios>> = std::sync::Mutex::new(None);

/// Ctrl-C while a prompt holds the terminal (its echo off, its cursor
/// hidden) ends keysmith with the terminal put back as it was: a "no",
/// exit 1, as declining is. Installed before the first prompt; nothing is
/// ever written to the store while a prompt waits.
fn restore_on_interrupt() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        if let Ok(saved) = rustix::termios::tcgetattr(io::stdin()) {
            *TERMINAL.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved);
        }
        // Without the handler, Ctrl-C still ends the prompt (by the signal).
        let _ = ctrlc::set_handler(|| {
            if let Some(saved) = TERMINAL.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                let _ = rustix::termios::tcsetattr(
                    io::stdin(),
                    rustix::termios::OptionalActions::Now,
                    saved,
                );
            }
            show_cursor();
            eprintln!();
            std::process::exit(1);
        });
    });
}

fn prompt_failed(e: dialoguer::Error) -> Error {
    let dialoguer::Error::IO(io) = e;
    // A prompt that ends early (Ctrl-C) leaves the cursor it hid hidden:
    // shown again, whatever the way out.
    show_cursor();
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
    restore_on_interrupt();
    let answer: String = Input::new()
        .with_prompt(label)
        .allow_empty(allow_empty)
        .validate_with(|input: &String| check(input).map(|_| ()).map_err(|e| e.to_string()))
        .interact()
        .map_err(prompt_failed)?;
    check(&answer)
}

/// A y/N question, answered with Enter: a typed `yes⏎` is taken whole,
/// and none of it is left for the shell to run.
pub fn confirm(question: &str, default: bool) -> Result<bool> {
    restore_on_interrupt();
    Confirm::new()
        .with_prompt(question)
        .default(default)
        .wait_for_newline(true)
        .interact()
        .map_err(prompt_failed)
}

/// The terminal's cursor shown (DECTCEM), on stderr where prompts draw.
fn show_cursor() {
    use std::io::Write;
    let mut err = io::stderr();
    if err.is_terminal() {
        let _ = err.write_all(b"\x1b[?25h");
        let _ = err.flush();
    }
}

/// Reads a secret without echoing it.
pub fn secret(label: &str) -> Result<Zeroizing<String>> {
    restore_on_interrupt();
    Password::new()
        .with_prompt(label)
        .allow_empty_password(true)
        .interact()
        .map(Zeroizing::new)
        .map_err(prompt_failed)
}

//! Questions asked at a terminal. Every prompt needs stdin and stderr to be
//! terminals; callers check `can_prompt` and otherwise name the flag to pass.

use std::io::{self, IsTerminal};

use dialoguer::{Password, Select};
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

/// Asks `label` and reads the answer, one line in the terminal's own line
/// mode: the terminal echoes and edits what is typed, and nothing is ever
/// redrawn, so a long name, answer or message that wraps at a narrow
/// terminal cannot be drawn twice or over itself (as a prompt that clears
/// and repaints its line is, once the line wraps). Ctrl-D is a "no";
/// Ctrl-C ends keysmith (see `restore_on_interrupt`).
fn ask(label: &str) -> Result<String> {
    use std::io::{BufRead, Write};
    restore_on_interrupt();
    let mut err = io::stderr().lock();
    err.write_all(label.as_bytes())
        .and_then(|()| err.flush())
        .map_err(Error::output)?;
    drop(err);
    let mut line = String::new();
    let read = io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(Error::input)?;
    if read == 0 {
        // The cursor is still on the prompt's line.
        eprintln!();
        return Err(Error::Declined);
    }
    let answer = line.trim_end_matches(['\n', '\r']);
    Ok(answer.to_owned())
}

/// Asks for text until `check` accepts it; returns what `check` made of it.
/// A rejected answer gets its `error:` line and the question again, below.
pub fn text<T>(label: &str, allow_empty: bool, check: impl Fn(&str) -> Result<T>) -> Result<T> {
    loop {
        let answer = ask(&format!("{label}: "))?;
        if answer.trim().is_empty() && !allow_empty {
            continue;
        }
        match check(&answer) {
            Ok(value) => return Ok(value),
            Err(e) => eprintln!("error: {e}"),
        }
    }
}

/// A y/N question, answered with Enter: a typed `yes⏎` is taken whole,
/// and none of it is left for the shell to run. Keep `question` short:
/// what it is about goes on lines of its own before it.
pub fn confirm(question: &str, default: bool) -> Result<bool> {
    let choices = if default { "[Y/n]" } else { "[y/N]" };
    loop {
        let answer = ask(&format!("{question} {choices} "))?;
        match answer.trim().to_ascii_lowercase().as_str() {
            "" => return Ok(default),
            "y" | "yes" => return Ok(true),
            "n" | "no" => return Ok(false),
            _ => eprintln!("Please answer y or n."),
        }
    }
}

/// A choice among `items` (arrows and Enter; Esc or q: a "no"); the
/// position chosen. The question goes on a line of its own and each item
/// is cut to the terminal's width: the list is redrawn as the selection
/// moves, and a line that wrapped would be drawn over.
pub fn choose(question: &str, items: &[String]) -> Result<usize> {
    restore_on_interrupt();
    eprintln!("{question}");
    let width = terminal_size::terminal_size().map_or(80, |(w, _)| usize::from(w.0));
    // Room for the selection marker dialoguer draws before each item.
    let fitted: Vec<String> = items
        .iter()
        .map(|item| crate::table::shorten(item, width.saturating_sub(3).max(10)).into_owned())
        .collect();
    let chosen = Select::new()
        .items(&fitted)
        .default(0)
        .interact_opt()
        .map_err(prompt_failed)?;
    chosen.ok_or(Error::Declined)
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

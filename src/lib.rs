//! keysmith: mint, list, switch off, rotate and verify API keys.
//!
//! The binary is a thin wrapper over [`run`]. Applications open a store
//! ([`store::open`]), create keys ([`lifecycle::create`]) and verify them
//! ([`verify`]) in-process through the same code, from many threads: a
//! store is `Send`, open one per thread. The library page of the docs
//! (docs/src/library.md) has a worked example, compiled and run as a doc test.
//!
//! What the library promises, and to whom: the public modules are what
//! applications use (the key format, the store, every change to keys, the
//! verdict, the input rules, the nouns and times, finding keys in text and
//! masking them, the errors and their kinds) and what the fuzzers reach
//! (`input`, `redact`, `serve::request`). Everything else (the command line, the output, the
//! configuration files, the tables) is the binary's and may change in any
//! release. Whatever comes through the public API keeps the guarantees of
//! docs/src/security.md: the full key never reaches the store, an error
//! message or a panic message.

#![forbid(unsafe_code)]

// keysmith runs where its guarantees hold: file modes that keep a store
// private, device and inode numbers that tell a replaced store, a null
// device to refuse delivering keys to (docs/src/getting-started.md, "Platforms").
#[cfg(not(unix))]
compile_error!("keysmith supports Unix-like systems only: Linux, macOS and the BSDs");

mod cli;
mod clipboard;
mod commands;
mod complete;
mod config;
pub mod error;
mod harden;
mod help;
pub mod input;
pub mod ip;
pub mod key_format;
pub mod lifecycle;
pub mod model;
mod output;
mod pager;
mod prompt;
pub mod rate;
pub mod redact;
mod refill;
pub mod scan;
pub mod serve;
mod shell;
pub mod store;
mod table;
pub mod time;
pub mod verify;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

pub use error::{Error, Result};
pub use key_format::{mint, parse};
pub use store::{Location, OpenMode, Store};
pub use verify::{Code, Verdict, verify};

/// The Rust examples of the README and the docs, compiled and run by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
#[doc = include_str!("../docs/src/library.md")]
#[doc = include_str!("../docs/src/postgres.md")]
pub struct DocsDoctests;

/// Parses `args`, runs the command, prints any error as one `error:` line and
/// returns the exit code of docs/src/exit-codes.md.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    ExitCode::from(run_code(args))
}

/// `run`, with the exit code as a number.
pub fn run_code(args: impl IntoIterator<Item = OsString>) -> u8 {
    // A panic message could carry anything, even key material: print none.
    std::panic::set_hook(Box::new(|_| {
        eprintln!("error: keysmith hit an internal error (a bug); nothing more is shown");
    }));
    // Debug builds only: the tests' way to make keysmith panic, with a
    // payload that must never be shown, through the binary's entry point.
    #[cfg(debug_assertions)]
    if std::env::var_os("KEYSMITH_TEST_PANIC").is_some() {
        panic!("test panic quoting ks_4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhd6");
    }
    // The shell asking for completions (COMPLETE=bash keysmith -- ...): the
    // CLI is built for it only then, after one look at the environment.
    if complete::requested() {
        return complete::run(args.into_iter().collect());
    }
    let parsed = cli::Cli::command()
        .try_get_matches_from(args)
        .and_then(|matches| {
            let mut cli = cli::Cli::from_arg_matches(&matches)?;
            cli.db_from_variable =
                matches.value_source("db") == Some(clap::parser::ValueSource::EnvVariable);
            Ok(cli)
        });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // clap quotes the offending argument, which may hold a key, a
            // PostgreSQL URL with its password, or control characters.
            let text = redact::mask_passwords_in(&e.render().to_string());
            for line in text.lines() {
                eprintln!("{}", redact::Untrusted(line));
            }
            return e.exit_code().clamp(0, 255) as u8;
        }
        Err(e) => {
            // --help and --version: on stdout, as clap prints them.
            let _ = e.print();
            return 0;
        }
    };
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            // A last guard: whatever a message quotes (a path, a selector,
            // a library's text), a key or a URL's password in it is shown
            // masked, and the message stays one line that cannot drive the
            // terminal.
            let text = redact::mask_passwords_in(&e.to_string());
            eprintln!("error: {}", redact::Untrusted(&text));
            e.exit_code()
        }
    }
}

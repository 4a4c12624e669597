//! The `keysmith` binary: Rust's ordinary entry point around `keysmith::run`.
//!
//! Rust's runtime start does what keysmith needs before anything else: it
//! reopens a closed stdin, stdout or stderr on `/dev/null` (so no file
//! keysmith opens can take their place), ignores SIGPIPE (a closed pipe is
//! an error to handle), and a panic ends the process with exit 101.

fn main() -> std::process::ExitCode {
    keysmith::run(std::env::args_os())
}

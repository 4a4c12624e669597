//! Long human output at a terminal goes through a pager, as `git` and
//! `gh` do (docs/src/conventions.md, "Paging"): `KEYSMITH_PAGER`, else `PAGER`, else
//! `less -FRXS`; none with `--no-pager`, an empty value or `cat`, and never
//! when stdout is not a terminal. What is written is held until it is
//! more than the screen holds, so output that fits is printed as it is
//! and no pager is started for it; a pager that cannot start leaves the
//! output printed directly. Closing the pager early ends the command
//! quietly: the next write finds the pipe closed (a broken pipe, exit 0).

use std::io::{self, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

use unicode_width::UnicodeWidthStr;

/// Where stdout's data goes.
pub enum Sink {
    Stdout(io::Stdout),
    /// Held until it is known whether it fits the screen.
    Holding(Holding),
    Pager(Pager),
}

pub struct Holding {
    held: Vec<u8>,
    /// Screen rows the held lines take.
    rows: usize,
    screen: (usize, usize),
    command: Vec<String>,
}

pub struct Pager {
    child: Child,
    input: Option<ChildStdin>,
}

impl Sink {
    /// Output that may be paged, when stdout is a terminal of `screen`
    /// (columns, rows) and a pager is wanted.
    pub fn paged(screen: (usize, usize)) -> Sink {
        match pager_command() {
            Some(command) => Sink::Holding(Holding {
                held: Vec::new(),
                rows: 0,
                screen,
                command,
            }),
            None => Sink::Stdout(io::stdout()),
        }
    }

    /// Ends paging: held output is printed, a running pager is waited for
    /// (the person reads to the end, or quits it). Later output is printed
    /// directly.
    pub fn finish(&mut self) -> io::Result<()> {
        let sink = std::mem::replace(self, Sink::Stdout(io::stdout()));
        match sink {
            Sink::Stdout(_) => Ok(()),
            Sink::Holding(mut holding) => {
                let mut out = io::stdout();
                out.write_all(&std::mem::take(&mut holding.held))?;
                out.flush()
            }
            Sink::Pager(mut pager) => {
                pager.close();
                Ok(())
            }
        }
    }
}

/// Output held when the command ends early (an error) is still printed.
impl Drop for Holding {
    fn drop(&mut self) {
        let _ = io::stdout().write_all(&self.held);
    }
}

impl Pager {
    /// Closes the pager's input and waits for it to end.
    fn close(&mut self) {
        drop(self.input.take());
        // Its exit status says nothing about keysmith's output.
        let _ = self.child.wait();
    }
}

impl Drop for Pager {
    fn drop(&mut self) {
        self.close();
    }
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(out) => out.write(bytes),
            Sink::Pager(pager) => match &mut pager.input {
                Some(input) => input.write(bytes),
                None => Err(io::ErrorKind::BrokenPipe.into()),
            },
            Sink::Holding(holding) => {
                let (columns, rows) = holding.screen;
                let start = holding.held.len();
                holding.held.extend_from_slice(bytes);
                // Each finished line takes as many rows as it wraps to.
                let mut line_start = holding.held[..start]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |at| at + 1);
                for at in start..holding.held.len() {
                    if holding.held[at] == b'\n' {
                        let line = String::from_utf8_lossy(&holding.held[line_start..at]);
                        holding.rows += line.width().max(1).div_ceil(columns.max(1));
                        line_start = at + 1;
                    }
                }
                // One row is left for the shell's prompt.
                if holding.rows >= rows.saturating_sub(1).max(1) {
                    self.start_pager()?;
                }
                Ok(bytes.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.flush(),
            Sink::Pager(pager) => pager.input.as_mut().map_or(Ok(()), Write::flush),
            Sink::Holding(_) => Ok(()),
        }
    }
}

impl Sink {
    /// Starts the pager and hands it what was held; when it cannot start,
    /// the held output is printed and the rest follows it directly.
    fn start_pager(&mut self) -> io::Result<()> {
        let Sink::Holding(mut holding) = std::mem::replace(self, Sink::Stdout(io::stdout())) else {
            return Ok(());
        };
        let held = std::mem::take(&mut holding.held);
        match spawn(&holding.command) {
            Some(mut pager) => {
                let written = match &mut pager.input {
                    Some(input) => input.write_all(&held),
                    None => Ok(()),
                };
                *self = Sink::Pager(pager);
                written
            }
            None => io::stdout().write_all(&held),
        }
    }
}

fn spawn(command: &[String]) -> Option<Pager> {
    let (program, args) = command.split_first()?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .spawn()
        .ok()?;
    let input = child.stdin.take();
    Some(Pager { child, input })
}

/// The pager to run, as a program and its arguments; `None` for none. A
/// command with anything a shell would interpret is run by `sh -c`, as
/// `git` runs its pager; a plain one is run directly, so that a program
/// that is not there is known and the output printed instead.
fn pager_command() -> Option<Vec<String>> {
    let chosen = ["KEYSMITH_PAGER", "PAGER"]
        .iter()
        .find_map(|name| std::env::var(name).ok());
    let command = chosen.unwrap_or_else(|| "less -FRXS".to_owned());
    let command = command.trim();
    if command.is_empty() || command == "cat" {
        return None;
    }
    let plain = command
        .chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "-_./,:+@%".contains(c));
    Some(if plain {
        command.split_whitespace().map(str::to_owned).collect()
    } else {
        vec!["sh".to_owned(), "-c".to_owned(), command.to_owned()]
    })
}

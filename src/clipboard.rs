//! `--copy`: a new key goes to the clipboard instead of the terminal's
//! scrollback, and is cleared from it after a while, as `pass -c` does.
//!
//! Where there is a display (X11, or XWayland under Wayland) the system
//! clipboard is used through arboard. An X11 clipboard lives only as long
//! as the process that owns it, so a keeper process (`keysmith`
//! re-executed with the hidden `clipboard-keeper` command) holds it, and
//! clears it when the time is up if it still holds the key. Without a
//! display, on a terminal, the key is sent to the terminal's clipboard
//! with OSC 52, which works over SSH and in tmux (with `set-clipboard on`);
//! a terminal cannot be asked what it holds, so its keeper clears it when
//! the time is up whatever it holds then.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use zeroize::Zeroizing;

use crate::cli::KeeperArgs;
use crate::error::{Error, Result};

/// How long a copied key stays on the clipboard unless the environment says.
const DEFAULT_CLEAR_SECS: u64 = 45;
/// `pass` calls the same setting PASSWORD_STORE_CLIP_TIME.
const CLEAR_ENV: &str = "KEYSMITH_CLIP_TIME";
/// What the keeper answers once it holds the clipboard.
const HOLDING: &str = "holding";

/// The clipboard a key can be copied to here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clipboard {
    /// The display's clipboard (X11).
    System,
    /// The terminal's, by OSC 52.
    Terminal,
}

/// Where `--copy` will put a key and for how long: checked before any key
/// is made, so a command that cannot copy creates nothing.
#[derive(Debug, Clone, Copy)]
pub struct ClipboardCopy {
    pub clipboard: Clipboard,
    pub clear_after: Duration,
}

impl ClipboardCopy {
    pub fn prepare(json: bool) -> Result<ClipboardCopy> {
        if json {
            return Err(Error::Usage(
                "--copy prints no key, so it does not go with --json".into(),
            ));
        }
        let clear_after = clear_after()?;
        // X11 (XWayland too); a Wayland session without it gets OSC 52,
        // which Wayland terminals take.
        let has_display = std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty());
        let clipboard = if has_display {
            Clipboard::System
        } else if terminal().is_ok() {
            Clipboard::Terminal
        } else {
            return Err(Error::Usage(
                "--copy needs a clipboard: there is no display (DISPLAY) and no terminal; \
                 nothing was created. Leave out --copy to print the key"
                    .into(),
            ));
        };
        Ok(ClipboardCopy {
            clipboard,
            clear_after,
        })
    }

    /// Puts `secret` on the clipboard and starts the keeper that clears it;
    /// a display that cannot be used gives way to the terminal's clipboard
    /// when there is a terminal. An error means the key did not get there.
    pub fn put(&mut self, secret: &str) -> std::io::Result<()> {
        match self.clipboard {
            Clipboard::System => match hand_to_keeper(secret, self.clear_after) {
                Err(_) if terminal().is_ok() => {
                    self.clipboard = Clipboard::Terminal;
                    self.put(secret)
                }
                held => held,
            },
            Clipboard::Terminal => {
                let encoded =
                    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(secret));
                let mut tty = terminal()?;
                let sequence = Zeroizing::new(osc52(&encoded));
                tty.write_all(sequence.as_bytes())?;
                tty.flush()?;
                // A key that would never be cleared is taken back, as one
                // that was not delivered.
                keeper(self.clear_after, "--terminal")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .spawn()
                    .map(drop)
            }
        }
    }

    /// For messages: where the key went and until when.
    pub fn describe(&self) -> String {
        let place = match self.clipboard {
            Clipboard::System => "clipboard",
            Clipboard::Terminal => "terminal's clipboard (OSC 52)",
        };
        format!(
            "The full key is on the {place} for {} s and is shown nowhere: paste it where it \
             belongs now",
            self.clear_after.as_secs()
        )
    }
}

/// `\e]52;c;<base64>\a`: set the clipboard (`c`); empty data clears it.
fn osc52(encoded: &str) -> String {
    format!("\x1b]52;c;{encoded}\x07")
}

fn terminal() -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).open("/dev/tty")
}

fn clear_after() -> Result<Duration> {
    let Some(raw) = std::env::var_os(CLEAR_ENV) else {
        return Ok(Duration::from_secs(DEFAULT_CLEAR_SECS));
    };
    raw.to_str()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|secs| (1..=86_400).contains(secs))
        .map(Duration::from_secs)
        .ok_or_else(|| {
            Error::Usage(format!(
                "invalid {CLEAR_ENV}: must be a number of seconds from 1 to 86400"
            ))
        })
}

/// The keeper process, in its own process group (Ctrl-C at the shell
/// does not reach it), with nothing of the terminal but `/dev/tty`.
fn keeper(clear_after: Duration, mode: &str) -> Command {
    let exe = std::env::current_exe().unwrap_or_else(|_| "keysmith".into());
    let mut cmd = Command::new(exe);
    cmd.args([
        "clipboard-keeper",
        mode,
        "--seconds",
        &clear_after.as_secs().to_string(),
    ])
    .stderr(Stdio::null())
    .current_dir("/")
    .process_group(0);
    cmd
}

/// Starts the system-clipboard keeper, gives it the key on a pipe (never
/// in its arguments, which anyone can read) and waits until it holds the
/// clipboard.
fn hand_to_keeper(secret: &str, clear_after: Duration) -> std::io::Result<()> {
    let mut child = keeper(clear_after, "--system")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(secret.as_bytes())?;
    drop(stdin);
    let mut answer = String::new();
    let stdout = child.stdout.take().expect("piped");
    BufReader::new(stdout).take(1024).read_line(&mut answer)?;
    match answer.trim_end() {
        HOLDING => Ok(()),
        "" => {
            let _ = child.wait();
            Err(std::io::Error::other("the clipboard keeper stopped"))
        }
        other => {
            let _ = child.wait();
            Err(std::io::Error::other(other.to_owned()))
        }
    }
}

/// `keysmith clipboard-keeper`: holds or clears the clipboard for a
/// `--copy` that already returned.
pub fn keep(args: KeeperArgs) -> Result<u8> {
    let clear_after = Duration::from_secs(args.seconds);
    if args.terminal {
        std::thread::sleep(clear_after);
        if let Ok(mut tty) = terminal() {
            let _ = tty.write_all(osc52("").as_bytes());
        }
        return Ok(0);
    }
    let mut secret = Zeroizing::new(String::new());
    let read = std::io::stdin().read_to_string(&mut secret);
    let mut stdout = std::io::stdout();
    let held = read
        .map_err(|e| e.to_string())
        .and_then(|_| hold(&secret).map_err(|e| e.to_string()));
    let mut clipboard = match held {
        Ok(clipboard) => clipboard,
        Err(e) => {
            let _ = writeln!(stdout, "cannot use the clipboard: {e}");
            return Ok(1);
        }
    };
    let _ = writeln!(stdout, "{HOLDING}");
    let _ = stdout.flush();
    // Nobody reads what the keeper says from now on.
    let deadline = Instant::now() + clear_after;
    loop {
        std::thread::sleep(Duration::from_millis(200).min(clear_after));
        if let Ok(text) = clipboard.get_text()
            && Zeroizing::new(text).as_str() != secret.as_str()
        {
            // Something else was copied since: that is left alone.
            return Ok(0);
        }
        if Instant::now() >= deadline {
            let _ = clipboard.clear();
            return Ok(0);
        }
    }
}

/// Puts `secret` on the system clipboard, marked for clipboard managers as
/// a secret to keep out of their history.
fn hold(secret: &str) -> std::result::Result<arboard::Clipboard, arboard::Error> {
    use arboard::SetExtLinux;
    let mut clipboard = arboard::Clipboard::new()?;
    clipboard.set().exclude_from_history().text(secret)?;
    Ok(clipboard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_sets_and_clears_the_clipboard_selection() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("ks_abc");
        assert_eq!(osc52(&encoded), "\x1b]52;c;a3NfYWJj\x07");
        assert_eq!(osc52(""), "\x1b]52;c;\x07");
    }
}

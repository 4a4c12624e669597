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
//!
//! Inside tmux the OSC 52 becomes one of tmux's paste buffers, which an
//! empty OSC 52 does not clear (tmux ignores it, and does not pass it on to
//! the terminal outside either). So there the keeper, given only the key's
//! SHA-256, deletes with tmux's own commands every buffer that holds the
//! key, and overwrites the outside terminal's clipboard through tmux.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use zeroize::Zeroizing;

use crate::error::{Error, Failure, Result};
use clap::Args;

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
            tmux_takes_osc52()?;
            Clipboard::Terminal
        } else {
            return Err(Error::failed(
                Failure::Delivery,
                "--copy needs a clipboard: there is no display (DISPLAY) and no terminal; \
                 nothing was created. Leave out --copy to print the key",
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
                // (Inside tmux only if tmux takes OSC 52, as `prepare` checks.)
                Err(_) if terminal().is_ok() && tmux_takes_osc52().is_ok() => {
                    self.clipboard = Clipboard::Terminal;
                    self.put(secret)
                }
                held => held,
            },
            Clipboard::Terminal => {
                // Started first: a key that would never be cleared is taken
                // back, as one that was not delivered.
                let mut cmd = keeper(self.clear_after, "--terminal");
                if in_tmux() {
                    cmd.arg("--tmux");
                }
                let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
                // The key's digest, never the key: enough to know tmux's
                // buffer of it, and nothing to leak.
                let digest = hex_digest(secret.as_bytes());
                let mut stdin = child.stdin.take().expect("piped");
                stdin.write_all(digest.as_bytes())?;
                drop(stdin);
                let encoded =
                    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(secret));
                let mut tty = terminal()?;
                let sequence = Zeroizing::new(osc52(&encoded));
                tty.write_all(sequence.as_bytes())?;
                tty.flush()
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

/// The arguments of the hidden `clipboard-keeper` subcommand, which
/// keysmith starts itself.
#[derive(Debug, Args)]
pub struct KeeperArgs {
    /// Hold the system clipboard (the key comes on stdin)
    #[arg(
        long,
        conflicts_with = "terminal",
        required_unless_present = "terminal"
    )]
    pub system: bool,

    /// Clear the terminal's clipboard when the time is up
    #[arg(long)]
    pub terminal: bool,

    /// Also delete tmux's paste buffers of the key (its SHA-256 comes on stdin)
    #[arg(long, requires = "terminal")]
    pub tmux: bool,

    /// How long to hold it
    #[arg(long, value_name = "SECONDS")]
    pub seconds: u64,
}

/// `keysmith clipboard-keeper`: holds or clears the clipboard for a
/// `--copy` that already returned.
pub fn keep(args: KeeperArgs) -> Result<u8> {
    crate::harden::no_core_dumps();
    let clear_after = Duration::from_secs(args.seconds);
    if args.terminal {
        let mut digest = String::new();
        let _ = std::io::stdin().take(64).read_to_string(&mut digest);
        std::thread::sleep(clear_after);
        if let Ok(mut tty) = terminal() {
            let _ = tty.write_all(osc52("").as_bytes());
        }
        if args.tmux {
            forget_in_tmux(digest.trim());
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

/// Whether this runs inside tmux (its panes set `TMUX`).
fn in_tmux() -> bool {
    std::env::var_os("TMUX").is_some_and(|v| !v.is_empty())
}

/// Inside tmux, an OSC 52 reaches a clipboard only with `set-clipboard
/// on`: with `external` or `off` tmux drops it, and a key sent that way
/// would reach nobody. A tmux that cannot be asked is given the benefit
/// of the doubt.
fn tmux_takes_osc52() -> Result<()> {
    if !in_tmux() {
        return Ok(());
    }
    let Some(setting) = tmux(&["show-options", "-sv", "set-clipboard"]) else {
        return Ok(());
    };
    let setting = String::from_utf8_lossy(&setting).trim().to_owned();
    if setting == "on" {
        return Ok(());
    }
    Err(Error::failed(
        Failure::Delivery,
        format!(
            "--copy inside tmux needs `set -s set-clipboard on` in tmux (it is {}): tmux drops \
         the terminal's clipboard sequence otherwise; nothing was created. Leave out \
         --copy to print the key",
            crate::redact::Untrusted(&setting)
        ),
    ))
}

/// What `tmux ARGS` prints, when it succeeds; the server is the one
/// `TMUX` names, as for any tmux command run in a pane.
fn tmux(args: &[&str]) -> Option<Vec<u8>> {
    let out = Command::new("tmux")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

/// The SHA-256 of `bytes`, in hex.
fn hex_digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The buffer tmux's clipboard overwrite goes through, deleted at once.
const TMUX_CLEARING_BUFFER: &str = "keysmith-cleared";

/// Deletes every tmux paste buffer whose content has the SHA-256 `digest`
/// (the key's); if there was one, tmux also passed the key on to the
/// terminal outside it, whose clipboard is then overwritten (with a
/// space: tmux sends no empty one). The key is compared in memory, never
/// shown or passed in an argument.
fn forget_in_tmux(digest: &str) {
    if digest.len() != 64 {
        return;
    }
    let Some(listing) = tmux(&["list-buffers", "-F", "#{buffer_size} #{buffer_name}"]) else {
        return;
    };
    let listing = String::from_utf8_lossy(&listing).into_owned();
    let mut found = false;
    for line in listing.lines() {
        let Some((size, name)) = line.split_once(' ') else {
            continue;
        };
        // A key is short: larger buffers are not read at all.
        if size.parse::<usize>().is_ok_and(|size| size > 1024) {
            continue;
        }
        let Some(content) = tmux(&["show-buffer", "-b", name]).map(Zeroizing::new) else {
            continue;
        };
        let same =
            subtle::ConstantTimeEq::ct_eq(hex_digest(&content).as_bytes(), digest.as_bytes());
        if bool::from(same) && tmux(&["delete-buffer", "-b", name]).is_some() {
            found = true;
        }
    }
    if found && tmux(&["set-buffer", "-w", "-b", TMUX_CLEARING_BUFFER, " "]).is_some() {
        let _ = tmux(&["delete-buffer", "-b", TMUX_CLEARING_BUFFER]);
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

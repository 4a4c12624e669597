//! Everything printed: stdout carries data (keys, tables, JSON), stderr carries
//! talk. Colour is decided once, here.

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

use crate::error::{Error, Failure, Result};
use crate::pager::Sink;
use crate::redact::Untrusted;
use crate::store::{KeyRecord, Limits, RateLimit, Timestamp};
use crate::time;

mod objects;
pub use objects::{EventJson, KeyJson, OwnerJson};

pub struct Output {
    pub json: bool,
    color: bool,
    /// `--no-pager`: human output is never paged.
    no_pager: bool,
    out: io::BufWriter<Sink>,
    /// Made when new keys are first delivered (see `deliver`).
    raw: Option<std::fs::File>,
}

impl Output {
    pub fn new(json: bool, no_pager: bool) -> Self {
        let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Output {
            json,
            color,
            no_pager,
            // Bulk commands print hundreds of megabytes: fewer, larger writes.
            out: io::BufWriter::with_capacity(1 << 16, Sink::Stdout(io::stdout())),
            raw: None,
        }
    }

    /// Writes one line of data to stdout.
    pub fn line(&mut self, text: &str) -> Result<()> {
        writeln!(self.out, "{text}").map_err(Error::output)
    }

    /// Writes one line of words joined by spaces, with no string made for it.
    pub fn words(&mut self, words: &[&str]) -> Result<()> {
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b" ").map_err(Error::output)?;
            }
            self.out.write_all(word.as_bytes()).map_err(Error::output)?;
        }
        self.out.write_all(b"\n").map_err(Error::output)
    }

    /// Writes one compact JSON document (or JSON Lines record) to stdout.
    pub fn json_line<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        serde_json::to_writer(&mut self.out, value).map_err(|e| Error::output(e.into()))?;
        self.out.write_all(b"\n").map_err(Error::output)
    }

    /// Streams element `index` of a JSON array, one element per line, so a
    /// listing of any size is written as it is read. Close with `array_end`.
    pub fn array_element<T: Serialize>(&mut self, index: u64, value: &T) -> Result<()> {
        let opening: &[u8] = if index == 0 { b"[\n" } else { b",\n" };
        self.out.write_all(opening).map_err(Error::output)?;
        serde_json::to_writer(&mut self.out, value).map_err(|e| Error::output(e.into()))
    }

    /// `array_element` for a key object, written by `KeyJson::write_to`.
    pub fn key_element(&mut self, index: u64, key: &KeyJson<'_>) -> Result<()> {
        let opening: &[u8] = if index == 0 { b"[\n" } else { b",\n" };
        self.out.write_all(opening).map_err(Error::output)?;
        key.write_to(&mut self.out).map_err(Error::output)
    }

    pub fn array_end(&mut self, count: u64) -> Result<()> {
        let closing: &[u8] = if count == 0 { b"[]\n" } else { b"\n]\n" };
        self.out.write_all(closing).map_err(Error::output)
    }

    /// Writes out what is buffered; output being paged ends here (see
    /// `page`), so that what follows, on stderr too, comes after it.
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(Error::output)?;
        self.out.get_mut().finish().map_err(Error::output)
    }

    /// Human output from here on goes through a pager if it does not fit
    /// the screen (see `pager`): only at a terminal, and not with
    /// `--no-pager` or `--json`.
    pub fn page(&mut self) -> Result<()> {
        if self.json || self.no_pager || !io::stdout().is_terminal() {
            return Ok(());
        }
        self.out.flush().map_err(Error::output)?;
        let (columns, rows) = terminal_size::terminal_size()
            .map_or((80, 24), |(w, h)| (usize::from(w.0), usize::from(h.0)));
        *self.out.get_mut() = Sink::paged((columns, if rows == 0 { 24 } else { rows }));
        Ok(())
    }

    /// Where a table is drawn.
    pub(crate) fn writer(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    /// Writes `bytes` (new keys) to stdout past every buffer, so that what
    /// is counted as written did reach the file, pipe or terminal. Returns
    /// how many bytes got there, and the error that stopped the rest.
    pub fn deliver(&mut self, bytes: &[u8]) -> (usize, Option<io::Error>) {
        if let Err(e) = self.out.flush() {
            return (0, Some(e));
        }
        let mut written = 0;
        while written < bytes.len() {
            match self
                .raw_stdout()
                .and_then(|out| out.write(&bytes[written..]))
            {
                Ok(0) => return (written, Some(io::ErrorKind::WriteZero.into())),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (written, Some(e)),
            }
        }
        (written, None)
    }

    /// With stdout closed or sent to `/dev/null`, a new key would reach
    /// nobody: refused before anything is written.
    pub fn refuse_unread_stdout(&mut self) -> Result<()> {
        if self.stdout_reaches_nobody() {
            return Err(Error::failed(
                Failure::Delivery,
                "stdout is closed or /dev/null, so a new key would reach nobody; nothing was \
                 created. Send stdout to a file or a pipe",
            ));
        }
        Ok(())
    }

    /// Whether what is written to stdout reaches nobody: it is `/dev/null`,
    /// because a shell or a service manager sent it there, or because stdout
    /// was closed at the start (Rust's runtime then opens `/dev/null` in its
    /// place, and the two cannot be told apart).
    pub fn stdout_reaches_nobody(&mut self) -> bool {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let Ok(out) = self.raw_stdout() else {
            return true;
        };
        // The null device's number differs between systems: ask it.
        let device = |m: &std::fs::Metadata| m.file_type().is_char_device().then(|| m.rdev());
        let null = std::fs::metadata("/dev/null")
            .ok()
            .as_ref()
            .and_then(device);
        null.is_some() && out.metadata().ok().as_ref().and_then(device) == null
    }

    /// stdout without std's line buffer: a descriptor of its own for the
    /// same open file.
    fn raw_stdout(&mut self) -> io::Result<&mut std::fs::File> {
        use std::os::fd::AsFd;
        if self.raw.is_none() {
            let fd = io::stdout().as_fd().try_clone_to_owned()?;
            self.raw = Some(std::fs::File::from(fd));
        }
        Ok(self.raw.as_mut().expect("just set"))
    }

    /// A message on stderr after the data already written, so that on a
    /// terminal the two appear in the order they were produced.
    pub fn notice(&mut self, text: &str) -> Result<()> {
        self.flush()?;
        notice(text);
        Ok(())
    }

    /// The terminal's width when stdout is one: tables are fitted to it
    /// (docs/src/commands/list.md); piped, `None`: nothing is shortened.
    pub fn fit(&self) -> Option<usize> {
        io::stdout()
            .is_terminal()
            .then(|| terminal_size::terminal_size().map_or(80, |(w, _)| usize::from(w.0)))
    }

    /// Whether tables are coloured (a terminal, without `NO_COLOR`).
    pub fn color(&self) -> bool {
        self.color
    }

    /// How `list` draws its table here.
    pub fn table_layout(&self, wide: bool) -> crate::table::key_rows::Layout {
        crate::table::key_rows::Layout {
            wide,
            fit: self.fit(),
            color: self.color,
        }
    }
}

impl Output {
    /// Prints every field of a key, one per line, for `show`.
    pub fn key_details(&mut self, key: &KeyRecord, now: Timestamp) -> Result<()> {
        let optional = |v: &Option<String>| Untrusted::or(v.as_deref(), "-").to_string();
        let when = |t: Option<Timestamp>| t.map_or("never".to_owned(), time::local_minutes);
        let rows = [
            ("ID", Untrusted(&key.id).to_string()),
            ("Name", Untrusted(&key.name).to_string()),
            ("Description", optional(&key.description)),
            ("Service", optional(&key.service)),
            ("Prefix", Untrusted(&key.prefix).to_string()),
            ("Key", Untrusted(&key.masked()).to_string()),
            ("Status", key.status(now).as_str().to_owned()),
            ("Created", time::local_minutes(key.created_at)),
            ("Last used", when(key.last_used_at)),
            ("Use count", key.use_count.to_string()),
            ("Expires", when(key.expires_at)),
            ("Rotated from", optional(&key.rotated_from)),
            ("Replaced by", optional(&key.replaced_by)),
        ];
        let [scopes, uses, rate] = limit_words(&key.limits, now);
        let rows = rows.into_iter().chain([
            ("Scopes", Untrusted(&scopes).to_string()),
            ("Uses left", uses),
            ("Refill", refill_words(&key.limits, now)),
            ("Allowed IPs", ip_words(&key.limits)),
            ("Rate limit", rate),
            ("Owner", optional(&key.owner)),
            ("Metadata", meta_line(key.meta.as_deref())),
        ]);
        for (label, value) in rows {
            writeln!(self.out, "{label:<13} {value}").map_err(Error::output)?;
        }
        Ok(())
    }
}

/// Metadata on one line of `show`: the compact JSON, cut at 100
/// characters (`show --json` has it whole).
fn meta_line(meta: Option<&str>) -> String {
    const SHOWN: usize = 100;
    match meta {
        None => "-".to_owned(),
        Some(text) if text.chars().count() <= SHOWN => Untrusted(text).to_string(),
        Some(text) => {
            let cut: String = text.chars().take(SHOWN - 1).collect();
            format!("{}…", Untrusted(&cut))
        }
    }
}

/// IP rules in words, for `show` and `owner show`: `any`, or the ranges.
pub fn ip_words(limits: &Limits) -> String {
    if limits.allow_ip.is_empty() {
        return "any".to_owned();
    }
    limits
        .allow_ip
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A refill in words, for `show` and `owner show`: `monthly on day 1: back
/// to 10000, next 2027-01-01 00:00`, or `-`.
pub fn refill_words(limits: &Limits, now: Timestamp) -> String {
    limits.refill.map_or("-".to_owned(), |r| {
        format!(
            "{}: back to {}, next {}",
            r.every.words(),
            r.uses,
            time::local_minutes(r.next_at(now))
        )
    })
}

/// A key's limits as a table shows them: its scopes (comma-separated, `-`
/// for none), uses left (`unlimited`) and rate limit (`100/1m`, `-`).
fn limit_words(limits: &Limits, now: Timestamp) -> [String; 3] {
    [
        if limits.scopes.is_empty() {
            "-".to_owned()
        } else {
            limits.scopes.join(",")
        },
        limits
            .uses_left_at(now)
            .map_or("unlimited".to_owned(), |n| n.to_string()),
        limits.rate.map_or("-".to_owned(), RateLimit::display),
    ]
}

/// Prints a message for the person at the terminal (stderr, never data),
/// as `Untrusted` text: whatever it quotes, no key and no control reaches the
/// terminal.
pub fn notice(text: &str) {
    eprintln!("{}", Untrusted(text));
}

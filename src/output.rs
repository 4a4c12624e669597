//! Everything printed: stdout carries data (keys, tables, JSON), stderr carries
//! talk. Colour is decided once, here.

use std::io::{self, IsTerminal, Write};

use comfy_table::{Cell, Color, Table, presets};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::key::SecretKey;
use crate::store::{Event, KeyRecord, Status, Timestamp};
use crate::time::{self, Rfc3339};

pub struct Output {
    pub json: bool,
    color: bool,
    out: io::BufWriter<io::Stdout>,
}

impl Output {
    pub fn new(json: bool) -> Self {
        let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Output {
            json,
            color,
            out: io::BufWriter::new(io::stdout()),
        }
    }

    /// Writes one line of data to stdout.
    pub fn line(&mut self, text: &str) -> Result<()> {
        writeln!(self.out, "{text}").map_err(Error::output)
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

    pub fn array_end(&mut self, count: u64) -> Result<()> {
        let closing: &[u8] = if count == 0 { b"[]\n" } else { b"\n]\n" };
        self.out.write_all(closing).map_err(Error::output)
    }

    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(Error::output)
    }

    /// A message on stderr after the data already written, so that on a
    /// terminal the two appear in the order they were produced.
    pub fn notice(&mut self, text: &str) -> Result<()> {
        self.flush()?;
        notice(text);
        Ok(())
    }

    /// Prints a table of keys, styled only when colour is on.
    pub fn key_table(&mut self, keys: &[KeyRecord], now: Timestamp) -> Result<()> {
        let mut table = Table::new();
        table.load_style(presets::NOTHING).set_header([
            "ID",
            "NAME",
            "KEY",
            "SERVICE",
            "STATUS",
            "CREATED",
            "LAST USED",
            "EXPIRES",
        ]);
        if self.color {
            table.enforce_styling();
        }
        for key in keys {
            let status = key.status(now);
            let mut status_cell = Cell::new(status.as_str());
            if self.color {
                status_cell = status_cell.fg(match status {
                    Status::Enabled => Color::Green,
                    Status::Disabled => Color::Red,
                    Status::Expired => Color::Yellow,
                });
            }
            table.add_row(vec![
                Cell::new(&key.id),
                Cell::new(for_terminal(&key.name)),
                Cell::new(key.masked()),
                Cell::new(key.service.as_deref().map_or("-".into(), for_terminal)),
                status_cell,
                Cell::new(time::local_minutes(key.created_at)),
                Cell::new(key.last_used_at.map_or("never".into(), time::local_minutes)),
                Cell::new(key.expires_at.map_or("never".into(), time::local_minutes)),
            ]);
        }
        writeln!(self.out, "{}", table.trim_fmt()).map_err(Error::output)
    }
}

impl Output {
    /// Prints events, newest first, as a table.
    pub fn event_table(&mut self, events: &[Event]) -> Result<()> {
        let mut table = Table::new();
        table
            .load_style(presets::NOTHING)
            .set_header(["WHEN", "ACTION", "KEY", "ACTOR", "DETAIL"]);
        for e in events {
            table.add_row(vec![
                time::local_minutes(e.at),
                e.action.clone(),
                e.key_id.clone(),
                for_terminal(&e.actor),
                e.detail.as_deref().map_or("-".into(), for_terminal),
            ]);
        }
        writeln!(self.out, "{}", table.trim_fmt()).map_err(Error::output)
    }

    /// Prints every field of a key, one per line, for `show`.
    pub fn key_details(&mut self, key: &KeyRecord, now: Timestamp) -> Result<()> {
        let optional = |v: Option<&String>| v.map_or("-".to_owned(), |s| for_terminal(s));
        let when = |t: Option<Timestamp>| t.map_or("never".to_owned(), time::local_minutes);
        let rows = [
            ("ID", key.id.clone()),
            ("Name", for_terminal(&key.name)),
            ("Description", optional(key.description.as_ref())),
            ("Service", optional(key.service.as_ref())),
            ("Prefix", key.prefix.clone()),
            ("Key", key.masked()),
            ("Status", key.status(now).as_str().to_owned()),
            ("Created", time::local_minutes(key.created_at)),
            ("Last used", when(key.last_used_at)),
            ("Use count", key.use_count.to_string()),
            ("Expires", when(key.expires_at)),
            ("Rotated from", optional(key.rotated_from.as_ref())),
            ("Replaced by", optional(key.replaced_by.as_ref())),
        ];
        for (label, value) in rows {
            writeln!(self.out, "{label:<13} {value}").map_err(Error::output)?;
        }
        Ok(())
    }
}

/// The event object of SPEC §5 (`history --json`, `show --json`).
#[derive(Serialize)]
pub struct EventJson<'a> {
    at: Rfc3339,
    action: &'a str,
    key_id: &'a str,
    actor: &'a str,
    detail: Option<&'a str>,
}

impl<'a> EventJson<'a> {
    pub fn new(event: &'a Event) -> Self {
        EventJson {
            at: Rfc3339(event.at),
            action: &event.action,
            key_id: &event.key_id,
            actor: &event.actor,
            detail: event.detail.as_deref(),
        }
    }
}

/// Prints a message for the person at the terminal (stderr, never data).
pub fn notice(text: &str) {
    eprintln!("{text}");
}

/// Escapes control, bidirectional and zero-width characters, so text written
/// into the store by anyone cannot move the cursor or recolour a terminal.
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let hidden = matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || hidden {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `<prefix>_<id>_********`, serialised without a string made for it.
struct Masked<'a>(&'a str, &'a str);

impl Serialize for Masked<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{}_{}_********", self.0, self.1))
    }
}

/// The key object of SPEC §5, with `key` only at creation.
#[derive(Serialize)]
pub struct KeyJson<'a> {
    id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    service: Option<&'a str>,
    prefix: &'a str,
    masked: Masked<'a>,
    status: &'static str,
    created_at: Rfc3339,
    last_used_at: Option<Rfc3339>,
    use_count: i64,
    expires_at: Option<Rfc3339>,
    rotated_from: Option<&'a str>,
    replaced_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
}

impl<'a> KeyJson<'a> {
    pub fn new(record: &'a KeyRecord, now: Timestamp) -> Self {
        KeyJson {
            id: &record.id,
            name: &record.name,
            description: record.description.as_deref(),
            service: record.service.as_deref(),
            prefix: &record.prefix,
            masked: Masked(&record.prefix, &record.id),
            status: record.status(now).as_str(),
            created_at: Rfc3339(record.created_at),
            last_used_at: record.last_used_at.map(Rfc3339),
            use_count: record.use_count,
            expires_at: record.expires_at.map(Rfc3339),
            rotated_from: record.rotated_from.as_deref(),
            replaced_by: record.replaced_by.as_deref(),
            key: None,
        }
    }

    /// Adds the full key: only `create` and `rotate` call this.
    pub fn with_secret(mut self, secret: &'a SecretKey) -> Self {
        self.key = Some(secret.expose());
        self
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_what_a_terminal_would_obey() {
        assert_eq!(super::for_terminal("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(super::for_terminal("x\ny"), "x\\ny");
        assert_eq!(super::for_terminal("é \u{202E}"), "é \\u{202e}");
    }
}

//! The columns of `keysmith list` (docs/src/commands/list.md), drawn by the streamed table
//! of `table`. On a terminal, when the whole cells leave the name less than
//! `NAME_ROOM` columns, times are shown as dates and ages instead of
//! `YYYY-MM-DD HH:MM`, and then the key as `<prefix>_<id>`, then as its id
//! alone; piped, nothing is shortened.

use std::io::Write;

use crate::model::{KeyRecord, RateLimit, Status, Timestamp};
use crate::redact::Untrusted;
use crate::table::{self, StreamTable};
use crate::time;

/// The room the name keeps at a terminal before other cells take shorter
/// forms: at 80 columns, enough to tell "partner: acme (prod)" from
/// "partner: globex (staging)".
const NAME_ROOM: usize = 20;

/// How the table is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// `--wide`: every field, not only the first six.
    pub wide: bool,
    /// The terminal's width, when stdout is one: cells are shortened to
    /// fit it. `None` (piped): nothing is shortened.
    pub fit: Option<usize>,
    pub color: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Key,
    Name,
    Service,
    Status,
    Created,
    LastUsed,
    Description,
    Uses,
    Expires,
    ReplacedBy,
    Scopes,
    UsesLeft,
    Rate,
    Owner,
    Meta,
}

impl Column {
    fn header(self) -> &'static str {
        match self {
            Column::Key => "KEY",
            Column::Name => "NAME",
            Column::Service => "SERVICE",
            Column::Status => "STATUS",
            Column::Created => "CREATED",
            Column::LastUsed => "LAST USED",
            Column::Description => "DESCRIPTION",
            Column::Uses => "USES",
            Column::Expires => "EXPIRES",
            Column::ReplacedBy => "REPLACED BY",
            Column::Scopes => "SCOPES",
            Column::UsesLeft => "USES LEFT",
            Column::Rate => "RATE",
            Column::Owner => "OWNER",
            Column::Meta => "META",
        }
    }

    /// How narrow a column may be shortened, when it may be at all: the
    /// free-text ones give way first, the name last.
    fn shrinks_to(self) -> Option<usize> {
        match self {
            Column::Description | Column::Scopes | Column::Meta => Some(6),
            Column::Owner => Some(8),
            Column::Service => Some(7),
            Column::Name => Some(8),
            _ => None,
        }
    }
}

const NARROW: [Column; 6] = [
    Column::Key,
    Column::Name,
    Column::Service,
    Column::Status,
    Column::Created,
    Column::LastUsed,
];
const WIDE_EXTRA: [Column; 9] = [
    Column::Description,
    Column::Uses,
    Column::Expires,
    Column::ReplacedBy,
    Column::Scopes,
    Column::UsesLeft,
    Column::Rate,
    Column::Owner,
    Column::Meta,
];

/// The shorter forms of a row after the whole one (form 0), narrowest
/// last (see the module note).
const SHORT_TIMES: usize = 1;
const KEY_UNMASKED: usize = 2;
const KEY_ID: usize = 3;

/// The rows of `list`, for `StreamTable`.
struct KeyRows {
    columns: Vec<Column>,
    specs: Vec<table::Column>,
    now: Timestamp,
    wide: bool,
}

impl table::Rows for KeyRows {
    type Item = KeyRecord;

    fn columns(&self) -> &[table::Column] {
        &self.specs
    }

    fn forms(&self) -> usize {
        KEY_ID + 1
    }

    fn records_when_cramped(&self) -> bool {
        self.wide
    }

    fn cells(&self, key: &KeyRecord, form: usize, cells: &mut Vec<String>) {
        let text = |s: &str| Untrusted(s).to_string();
        let optional = |s: Option<&str>| Untrusted::or(s, "-").to_string();
        let short = form >= SHORT_TIMES;
        let when = |t: Option<Timestamp>, brief: fn(Timestamp, Timestamp) -> String| {
            t.map_or("never".to_owned(), |t| {
                if short {
                    brief(t, self.now)
                } else {
                    time::local_minutes(t)
                }
            })
        };
        let date = |t: Timestamp, _: Timestamp| time::local_date(t);
        cells.extend(self.columns.iter().map(|column| {
            match column {
                Column::Key => match form {
                    KEY_ID => text(&key.id),
                    KEY_UNMASKED => text(&format!("{}_{}", key.prefix, key.id)),
                    _ => text(&key.masked()),
                },
                Column::Name => text(&key.name),
                Column::Service => optional(key.service.as_deref()),
                Column::Status => key.status(self.now).as_str().to_owned(),
                Column::Created => when(Some(key.created_at), date),
                Column::LastUsed => when(key.last_used_at, time::ago),
                Column::Description => optional(key.description.as_deref()),
                Column::Uses => key.use_count.to_string(),
                Column::Expires => when(key.expires_at, date),
                Column::ReplacedBy => optional(key.replaced_by.as_deref()),
                Column::Scopes if key.limits.scopes.is_empty() => "-".to_owned(),
                Column::Scopes => text(&key.limits.scopes.join(",")),
                Column::UsesLeft => key
                    .limits
                    .uses_left_at(self.now)
                    .map_or("unlimited".to_owned(), |n| n.to_string()),
                Column::Rate => key.limits.rate.map_or("-".to_owned(), RateLimit::display),
                Column::Owner => optional(key.owner.as_deref()),
                Column::Meta => key
                    .meta
                    .as_deref()
                    .map_or("-".to_owned(), |m| text(&meta_fields(m))),
            }
        }));
    }

    fn paint(&self, key: &KeyRecord) -> Option<(usize, &'static str)> {
        let at = self.columns.iter().position(|c| *c == Column::Status)?;
        Some((
            at,
            match key.status(self.now) {
                Status::Enabled => "32",
                Status::Disabled => "31",
                Status::Expired => "33",
            },
        ))
    }
}

pub struct KeyTable {
    table: StreamTable<KeyRows>,
    /// Rows by status, for the footer.
    pub counts: [u64; 3],
}

impl KeyTable {
    pub fn new(layout: Layout, now: Timestamp) -> KeyTable {
        let mut columns = NARROW.to_vec();
        if layout.wide {
            columns.extend(WIDE_EXTRA);
        }
        let specs = columns
            .iter()
            .map(|&c| table::Column {
                header: c.header(),
                shrinks_to: c.shrinks_to(),
                keeps: (c == Column::Name).then_some(NAME_ROOM),
                whole: c == Column::Key,
            })
            .collect();
        let rows = KeyRows {
            columns,
            specs,
            now,
            wide: layout.wide,
        };
        KeyTable {
            table: StreamTable::new(rows, layout.fit, layout.color),
            counts: [0; 3],
        }
    }

    /// Adds a row: kept while the sample is read, drawn with its chunk.
    pub fn push(&mut self, key: &KeyRecord, out: &mut dyn Write) -> std::io::Result<()> {
        self.counts[match key.status(self.table.rows().now) {
            Status::Enabled => 0,
            Status::Disabled => 1,
            Status::Expired => 2,
        }] += 1;
        self.table.push(key, out)
    }

    /// Draws what is still held; nothing when there were no rows.
    pub fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.table.finish(out)
    }
}

/// Metadata's short form in a table: its member names (`{plan,region}`),
/// not their values (docs/src/owners.md: `--json` and `show` give the rest).
fn meta_fields(meta: &str) -> String {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(meta) {
        Ok(members) => {
            let names: Vec<&str> = members.keys().map(String::as_str).collect();
            format!("{{{}}}", names.join(","))
        }
        Err(_) => "?".to_owned(),
    }
}

//! The table of `keysmith list` (docs/src/commands/list.md): on a terminal it fits the
//! terminal's width, long cells shortened with `…`, and when even that
//! leaves the name too little room, times as dates and ages instead of
//! `YYYY-MM-DD HH:MM`; piped, nothing is shortened. Streamed: the columns are laid out from the first `SAMPLE`
//! rows (as `kubectl` does), and every row after them is written as it is
//! read, so memory does not grow with the store.

use std::io::Write;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::model::{KeyRecord, RateLimit, Status, Timestamp};
use crate::redact::Untrusted;
use crate::time;

/// Rows read before the columns are laid out.
const SAMPLE: usize = 500;
/// Between two columns.
const GAP: &str = "  ";
/// The room the name must keep for times to be shown whole on a terminal.
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
        }
    }

    /// How narrow a column may be shortened, when it may be at all: the
    /// free-text ones give way first, the name last.
    fn shrinks_to(self) -> Option<usize> {
        match self {
            Column::Description | Column::Scopes => Some(6),
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
const WIDE_EXTRA: [Column; 7] = [
    Column::Description,
    Column::Uses,
    Column::Expires,
    Column::ReplacedBy,
    Column::Scopes,
    Column::UsesLeft,
    Column::Rate,
];

struct Row {
    cells: Vec<String>,
    /// On a terminal, each time's short form (a date, an age), for when
    /// the whole ones leave no room.
    short: Vec<Option<String>>,
    status: Status,
}

pub struct KeyTable {
    layout: Layout,
    columns: Vec<Column>,
    /// Set once the sample is laid out.
    widths: Option<Vec<usize>>,
    /// Whether times are shown short (decided with the widths).
    short_times: bool,
    sample: Vec<Row>,
    now: Timestamp,
    /// Rows by status, for the footer.
    pub counts: [u64; 3],
}

impl KeyTable {
    pub fn new(layout: Layout, now: Timestamp) -> KeyTable {
        let mut columns = NARROW.to_vec();
        if layout.wide {
            columns.extend(WIDE_EXTRA);
        }
        KeyTable {
            layout,
            columns,
            widths: None,
            short_times: false,
            sample: Vec::new(),
            now,
            counts: [0; 3],
        }
    }

    /// Adds a row: kept while the sample is read, written after it.
    pub fn push(&mut self, key: &KeyRecord, out: &mut dyn Write) -> std::io::Result<()> {
        let row = self.row(key);
        self.counts[match row.status {
            Status::Enabled => 0,
            Status::Disabled => 1,
            Status::Expired => 2,
        }] += 1;
        if self.widths.is_some() {
            return self.write_row(&row, out);
        }
        self.sample.push(row);
        if self.sample.len() >= SAMPLE {
            self.lay_out(out)?;
        }
        Ok(())
    }

    /// Writes what is still held; nothing when there were no rows.
    pub fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.widths.is_none() && !self.sample.is_empty() {
            self.lay_out(out)?;
        }
        Ok(())
    }

    fn row(&self, key: &KeyRecord) -> Row {
        let status = key.status(self.now);
        let text = |s: &str| Untrusted(s).to_string();
        let optional = |s: Option<&str>| Untrusted::or(s, "-").to_string();
        let whole = |t: Option<Timestamp>| t.map_or("never".to_owned(), time::local_minutes);
        let mut short = Vec::new();
        let cells = self
            .columns
            .iter()
            .map(|column| {
                let (cell, brief) = match column {
                    Column::Key => (text(&key.masked()), None),
                    Column::Name => (text(&key.name), None),
                    Column::Service => (optional(key.service.as_deref()), None),
                    Column::Status => (status.as_str().to_owned(), None),
                    Column::Created => (
                        whole(Some(key.created_at)),
                        Some(time::local_date(key.created_at)),
                    ),
                    Column::LastUsed => (
                        whole(key.last_used_at),
                        Some(
                            key.last_used_at
                                .map_or("never".to_owned(), |t| time::ago(t, self.now)),
                        ),
                    ),
                    Column::Description => (optional(key.description.as_deref()), None),
                    Column::Uses => (key.use_count.to_string(), None),
                    Column::Expires => (
                        whole(key.expires_at),
                        Some(key.expires_at.map_or("never".to_owned(), time::local_date)),
                    ),
                    Column::ReplacedBy => (optional(key.replaced_by.as_deref()), None),
                    Column::Scopes if key.limits.scopes.is_empty() => ("-".to_owned(), None),
                    Column::Scopes => (text(&key.limits.scopes.join(",")), None),
                    Column::UsesLeft => (
                        key.limits
                            .remaining_uses
                            .map_or("unlimited".to_owned(), |n| n.to_string()),
                        None,
                    ),
                    Column::Rate => (
                        key.limits.rate.map_or("-".to_owned(), RateLimit::display),
                        None,
                    ),
                };
                // Piped, nothing is shortened: no short forms to keep.
                short.push(brief.filter(|_| self.layout.fit.is_some()));
                cell
            })
            .collect();
        Row {
            cells,
            short,
            status,
        }
    }

    /// The text of column `i` of `row`, as this table shows times.
    fn cell<'r>(&self, row: &'r Row, i: usize) -> &'r str {
        match (&row.short[i], self.short_times) {
            (Some(brief), true) => brief,
            _ => &row.cells[i],
        }
    }

    /// Each column's width: its header's, or its widest cell's in the
    /// sample.
    fn natural_widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.header().width()).collect();
        for row in &self.sample {
            for (i, w) in widths.iter_mut().enumerate() {
                *w = (*w).max(self.cell(row, i).width());
            }
        }
        widths
    }

    /// Widths from the header and the sample, shortened to fit the
    /// terminal when there is one; then the header and the sample.
    fn lay_out(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut widths = self.natural_widths();
        if let Some(room) = self.layout.fit {
            // Whole times, if the name keeps NAME_ROOM columns (or all it
            // needs) once every other column has given what it can.
            let mut tight = widths.clone();
            for (w, c) in tight.iter_mut().zip(&self.columns) {
                if let Some(min) = c.shrinks_to() {
                    let floor = if *c == Column::Name {
                        NAME_ROOM
                    } else {
                        min.max(c.header().width())
                    };
                    *w = (*w).min(floor);
                }
            }
            if row_width(&tight) > room {
                self.short_times = true;
                widths = self.natural_widths();
            }
            self.shrink(&mut widths, room);
        }
        self.widths = Some(widths);
        let header: Vec<&str> = self.columns.iter().map(|c| c.header()).collect();
        self.write_cells(&header, None, out)?;
        for row in std::mem::take(&mut self.sample) {
            self.write_row(&row, out)?;
        }
        Ok(())
    }

    /// Takes columns down, the widest shrinkable one first (never below its
    /// header), until the row fits `room` or none can give more.
    fn shrink(&self, widths: &mut [usize], room: usize) {
        while row_width(widths) > room {
            let widest = self
                .columns
                .iter()
                .zip(widths.iter())
                .enumerate()
                .filter(|(_, (c, w))| {
                    c.shrinks_to()
                        .is_some_and(|min| **w > min.max(c.header().width()))
                })
                // Of two as wide, the name gives way last.
                .max_by_key(|(_, (c, w))| (**w, **c != Column::Name))
                .map(|(i, _)| i);
            let Some(i) = widest else { break };
            widths[i] -= 1;
        }
    }

    fn write_row(&self, row: &Row, out: &mut dyn Write) -> std::io::Result<()> {
        let cells: Vec<&str> = (0..row.cells.len()).map(|i| self.cell(row, i)).collect();
        self.write_cells(&cells, Some(row.status), out)
    }

    fn write_cells(
        &self,
        cells: &[&str],
        status: Option<Status>,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let widths = self.widths.as_deref().unwrap_or(&[]);
        let mut line = String::new();
        let last = cells.len() - 1;
        for (i, (cell, column)) in cells.iter().zip(&self.columns).enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let shown = match self.layout.fit {
                Some(_) => shorten(cell, width),
                None => std::borrow::Cow::Borrowed(*cell),
            };
            let pad = width.saturating_sub(shown.width());
            let color = match (status, column) {
                (Some(s), Column::Status) if self.layout.color => Some(match s {
                    Status::Enabled => "32",
                    Status::Disabled => "31",
                    Status::Expired => "33",
                }),
                _ => None,
            };
            match color {
                Some(code) => line.push_str(&format!("\x1b[{code}m{shown}\x1b[0m")),
                None => line.push_str(&shown),
            }
            if i < last {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(GAP);
            }
        }
        writeln!(out, "{}", line.trim_end())
    }
}

/// A row's width with these column widths, gaps included.
fn row_width(widths: &[usize]) -> usize {
    widths.iter().sum::<usize>() + GAP.len() * widths.len().saturating_sub(1)
}

/// `text` in at most `width` columns: whole, or cut with `…` at the end.
pub(crate) fn shorten(text: &str, width: usize) -> std::borrow::Cow<'_, str> {
    if text.width() <= width {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut kept = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        kept.push(c);
        used += w;
    }
    kept.push('…');
    std::borrow::Cow::Owned(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_counts_display_columns() {
        assert_eq!(shorten("billing", 10), "billing");
        assert_eq!(shorten("billing webhook", 8), "billing…");
        // Wide characters take two columns each: never split one.
        assert_eq!(shorten("日本語のキー", 6), "日本…");
        assert_eq!(shorten("🔑🔑🔑🔑", 5), "🔑🔑…");
        assert!(shorten("🔑🔑🔑🔑", 5).width() <= 5);
    }
}

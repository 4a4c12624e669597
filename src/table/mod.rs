//! The one table of the human output (`list`, `history`, `show`), drawn by
//! comfy-table and streamed: the columns are laid out from the first
//! `CHUNK` rows (as `kubectl` does), then every further `CHUNK` rows are
//! drawn as one comfy-table with the same fixed widths, so memory does not
//! grow with the store and every chunk lines up with the first.
//!
//! On a terminal the table fits its width (docs/src/conventions.md, "Tables"): each row is
//! one line, a long cell is cut with `…` by display width before
//! comfy-table sees it, a source may offer shorter forms of some cells
//! (times as dates and ages, a key as its id) for when the whole ones leave
//! a column that must keep room too little, and as a last resort every
//! column gives way. Piped, nothing is cut: a wider cell after the sample
//! widens its chunk's column instead (comfy-table's lower bound).
//!
//! comfy-table holds a whole table in memory and lays it out in one go,
//! which is why each chunk is a table of its own. It costs about 0.3-0.4 s
//! per 100,000 rows over the hand-written writer it replaced, and keeps
//! memory flat (12.5 MiB for `list` of 100,000 keys): within the limits,
//! measured side by side in BENCHMARKS.md ("Tables on comfy-table").

pub mod event_rows;
pub mod key_rows;
pub mod owner_rows;

use std::borrow::Cow;
use std::io::Write;

use comfy_table::{ColumnConstraint, ContentArrangement, Table, Width, presets};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Rows laid out at once: the sample the widths come from, then each chunk.
const CHUNK: usize = 500;
/// Between two columns.
const GAP: usize = 2;
/// A column cut as a last resort keeps this much (two characters and `…`):
/// `list --wide` has 12 columns beside the key's 12 at 80 columns.
const LAST_RESORT: usize = 3;

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    /// How narrow it may be cut, when it may be at all: free text gives way
    /// before anything else.
    pub shrinks_to: Option<usize>,
    /// The room it keeps (or all it needs, when less) before the source's
    /// shorter forms are used: the name in `list`.
    pub keeps: Option<usize>,
    /// Never cut, even as a last resort: what names the row (a key's id).
    pub whole: bool,
}

impl Column {
    /// A column cut only as a last resort.
    pub const fn fixed(header: &'static str) -> Column {
        Column {
            header,
            shrinks_to: None,
            keeps: None,
            whole: false,
        }
    }

    /// A column never cut.
    pub const fn whole(header: &'static str) -> Column {
        Column {
            whole: true,
            ..Column::fixed(header)
        }
    }

    /// A column that gives way first, to `to` columns.
    pub const fn shrinking(header: &'static str, to: usize) -> Column {
        Column {
            shrinks_to: Some(to),
            ..Column::fixed(header)
        }
    }

    /// The narrowest it is cut to before the last resort: the room it
    /// keeps, else its floor, never below its header.
    fn floor(&self) -> Option<usize> {
        self.keeps
            .or(self.shrinks_to)
            .map(|min| min.max(self.header.width()))
    }
}

/// What a table shows: its columns and each row's cells.
pub trait Rows {
    type Item: Clone;

    fn columns(&self) -> &[Column];

    /// How many forms the cells come in: form 0 is the whole one, each
    /// next one narrower. Only a terminal's table uses the others.
    fn forms(&self) -> usize {
        1
    }

    /// The cells of `item`, in `form`, one per column, into `cells`.
    fn cells(&self, item: &Self::Item, form: usize, cells: &mut Vec<String>);

    /// A column of `item`'s row to colour (an SGR code), where colour is on.
    fn paint(&self, _item: &Self::Item) -> Option<(usize, &'static str)> {
        None
    }

    /// Whether, on a terminal too narrow for the columns even once free
    /// text has given way, each row is shown as a record instead (a line
    /// a field, as psql's `\x auto` does), rather than every column cut
    /// to a few characters: `list --wide`, whose thirteen columns cannot
    /// share 80.
    fn records_when_cramped(&self) -> bool {
        false
    }
}

/// A row ready to draw.
struct Row {
    cells: Vec<String>,
    paint: Option<(usize, &'static str)>,
}

/// A table written onto `out` as rows arrive (see the module note).
pub struct StreamTable<R: Rows> {
    rows: R,
    /// The terminal's width, when stdout is one; `None`: nothing is cut.
    fit: Option<usize>,
    color: bool,
    /// The sample, until the columns are laid out.
    sample: Vec<R::Item>,
    /// Rows laid out and waiting for their chunk to be drawn.
    chunk: Vec<Row>,
    /// Set once the sample is laid out.
    widths: Option<Vec<usize>>,
    form: usize,
    /// Rows are drawn as records (see `Rows::records_when_cramped`); how
    /// many so far.
    records: Option<usize>,
}

impl<R: Rows> StreamTable<R> {
    pub fn new(rows: R, fit: Option<usize>, color: bool) -> Self {
        StreamTable {
            rows,
            fit,
            color,
            sample: Vec::new(),
            chunk: Vec::new(),
            widths: None,
            form: 0,
            records: None,
        }
    }

    pub fn rows(&self) -> &R {
        &self.rows
    }

    /// Adds a row: kept while the sample is read, drawn with its chunk.
    pub fn push(&mut self, item: &R::Item, out: &mut dyn Write) -> std::io::Result<()> {
        if self.widths.is_none() {
            self.sample.push(item.clone());
            if self.sample.len() >= CHUNK {
                self.lay_out(out)?;
            }
            return Ok(());
        }
        if self.records.is_some() {
            return self.record(item, out);
        }
        let row = self.row(item);
        self.chunk.push(row);
        if self.chunk.len() >= CHUNK {
            self.draw(out)?;
        }
        Ok(())
    }

    /// Draws what is still held; nothing when there were no rows.
    pub fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.widths.is_none() && !self.sample.is_empty() {
            self.lay_out(out)?;
        }
        if !self.chunk.is_empty() {
            self.draw(out)?;
        }
        Ok(())
    }

    fn row(&self, item: &R::Item) -> Row {
        let mut cells = Vec::with_capacity(self.rows.columns().len());
        self.rows.cells(item, self.form, &mut cells);
        Row {
            cells,
            paint: self.rows.paint(item).filter(|_| self.color),
        }
    }

    /// Each column's width in `form`: its header's, or its widest cell's in
    /// the sample.
    fn natural_widths(&self, form: usize) -> Vec<usize> {
        let mut widths: Vec<usize> = self
            .rows
            .columns()
            .iter()
            .map(|c| c.header.width())
            .collect();
        let mut cells = Vec::new();
        for item in &self.sample {
            cells.clear();
            self.rows.cells(item, form, &mut cells);
            for (w, cell) in widths.iter_mut().zip(&cells) {
                *w = (*w).max(cell.width());
            }
        }
        widths
    }

    /// Widths from the header and the sample, cut to the terminal's width
    /// when there is one; then the header and the sample are drawn.
    fn lay_out(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let columns = self.rows.columns();
        let mut widths = self.natural_widths(0);
        if let Some(room) = self.fit {
            // The first form in which every column that keeps room keeps
            // it once the free text has given what it can.
            for form in 0..self.rows.forms() {
                self.form = form;
                widths = self.natural_widths(form);
                let tight: Vec<usize> = widths
                    .iter()
                    .zip(columns)
                    .map(|(&w, c)| c.floor().map_or(w, |floor| w.min(floor)))
                    .collect();
                if row_width(&tight) <= room {
                    break;
                }
            }
            let mut fitted = widths.clone();
            shrink(columns, &mut fitted, room, false);
            if row_width(&fitted) > room && self.rows.records_when_cramped() {
                self.form = 0;
                self.widths = Some(Vec::new());
                self.records = Some(0);
                for item in std::mem::take(&mut self.sample) {
                    self.record(&item, out)?;
                }
                return Ok(());
            }
            shrink(columns, &mut widths, room, true);
        }
        self.widths = Some(widths);
        let header = Row {
            cells: columns.iter().map(|c| c.header.to_owned()).collect(),
            paint: None,
        };
        self.chunk.push(header);
        for item in std::mem::take(&mut self.sample) {
            let row = self.row(&item);
            self.chunk.push(row);
        }
        self.draw(out)
    }

    /// Draws `item` as a record: a line a field, its header then its whole
    /// cell (cut only at the terminal's edge), a blank line between two.
    fn record(&mut self, item: &R::Item, out: &mut dyn Write) -> std::io::Result<()> {
        let drawn = self.records.get_or_insert(0);
        if *drawn > 0 {
            writeln!(out)?;
        }
        *drawn += 1;
        let columns = self.rows.columns();
        let label = columns.iter().map(|c| c.header.width()).max().unwrap_or(0);
        let room = self.fit.unwrap_or(usize::MAX).saturating_sub(label + GAP);
        let row = self.row(item);
        for (i, (column, cell)) in columns.iter().zip(&row.cells).enumerate() {
            let value = shorten(cell, room);
            let header = column.header;
            let pad = label - header.width();
            match row.paint {
                Some((painted, code)) if painted == i => {
                    writeln!(out, "{header}{:pad$}  \x1b[{code}m{value}\x1b[0m", "")?
                }
                _ => writeln!(out, "{header}{:pad$}  {value}", "")?,
            }
        }
        Ok(())
    }

    /// Draws the chunk as one comfy-table of the fixed widths.
    fn draw(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let widths = self.widths.as_deref().unwrap_or(&[]);
        let chunk = std::mem::take(&mut self.chunk);
        let mut table = Table::new();
        table
            .load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled);
        let mut paints = Vec::with_capacity(chunk.len());
        for row in chunk {
            paints.push(row.paint);
            let cells: Vec<String> = match self.fit {
                Some(_) => row
                    .cells
                    .into_iter()
                    .zip(widths)
                    .map(|(cell, &w)| match shorten(&cell, w) {
                        Cow::Borrowed(_) => cell,
                        Cow::Owned(cut) => cut,
                    })
                    .collect(),
                None => row.cells,
            };
            table.add_row(cells);
        }
        let last = widths.len().saturating_sub(1);
        for (i, (column, &w)) in table.column_iter_mut().zip(widths).enumerate() {
            let pad = if i < last { GAP } else { 0 };
            column.set_padding((0, pad as u16));
            let w = Width::Fixed(u16::try_from(w + pad).unwrap_or(u16::MAX));
            // Piped, a cell wider than the sample had is never cut.
            column.set_constraint(match self.fit {
                Some(_) => ColumnConstraint::Absolute(w),
                None => ColumnConstraint::LowerBoundary(w),
            });
        }
        for (line, paint) in table.lines().zip(paints) {
            let line = line.trim_end();
            match paint {
                Some((column, code)) => {
                    let start = row_width(&widths[..column]) + if column > 0 { GAP } else { 0 };
                    writeln!(out, "{}", painted(line, start, widths[column], code))?
                }
                None => writeln!(out, "{line}")?,
            }
        }
        Ok(())
    }
}

/// `line` with the cell that starts at display column `start` and is
/// `width` wide coloured with SGR `code` (its padding left plain).
fn painted(line: &str, start: usize, width: usize, code: &str) -> String {
    // Byte offsets of display columns `start` and `start + width`.
    let mut column = 0;
    let (mut from, mut to) = (line.len(), line.len());
    for (at, c) in line.char_indices() {
        if column == start {
            from = at;
        }
        if column >= start + width {
            to = at;
            break;
        }
        column += c.width().unwrap_or(0);
    }
    let from = from.min(to);
    let text = line[from..to].trim_end();
    let to = from + text.len();
    format!("{}\x1b[{code}m{text}\x1b[0m{}", &line[..from], &line[to..])
}

/// Takes columns down until the row fits `room`: the widest column that
/// may shrink first (of two as wide, one that keeps room last), never below
/// its floor; then, as a `last_resort`, any column but a whole one, widest
/// first, one that keeps room last.
fn shrink(columns: &[Column], widths: &mut [usize], room: usize, last_resort: bool) {
    let passes = if last_resort { 3 } else { 1 };
    for pass in 0..passes {
        while row_width(widths) > room {
            let widest = columns
                .iter()
                .zip(widths.iter())
                .enumerate()
                .filter(|(_, (c, w))| match (pass, c.floor()) {
                    (0, Some(floor)) => **w > floor,
                    (0, None) => false,
                    (1, _) if c.keeps.is_some() => false,
                    _ => !c.whole && **w > LAST_RESORT,
                })
                .max_by_key(|(_, (c, w))| (**w, c.keeps.is_none()))
                .map(|(i, _)| i);
            let Some(i) = widest else { break };
            widths[i] -= 1;
        }
    }
}

/// A row's width with these column widths, gaps included.
fn row_width(widths: &[usize]) -> usize {
    widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1)
}

/// `text` in at most `width` columns: whole, or cut with `…` at the end.
pub(crate) fn shorten(text: &str, width: usize) -> Cow<'_, str> {
    if text.width() <= width {
        return Cow::Borrowed(text);
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
    Cow::Owned(kept)
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

    /// Two columns of words, for the tests of the layout.
    struct Words;

    impl Rows for Words {
        type Item = (&'static str, &'static str);

        fn columns(&self) -> &[Column] {
            const COLUMNS: [Column; 2] = [Column::whole("A"), Column::shrinking("B", 3)];
            &COLUMNS
        }

        fn cells(&self, item: &Self::Item, _: usize, cells: &mut Vec<String>) {
            cells.extend([item.0.to_owned(), item.1.to_owned()]);
        }

        fn paint(&self, item: &Self::Item) -> Option<(usize, &'static str)> {
            (item.0 == "red").then_some((0, "31"))
        }
    }

    fn drawn(fit: Option<usize>, color: bool, items: &[(&'static str, &'static str)]) -> String {
        let mut table = StreamTable::new(Words, fit, color);
        let mut out = Vec::new();
        for item in items {
            table.push(item, &mut out).unwrap();
        }
        table.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_chunk_keeps_the_sample_widths() {
        let mut items = vec![("x", "short"); CHUNK];
        items.push(("x", "much longer than the sample"));
        items.push(("yy", "b"));
        let piped = drawn(None, false, &items);
        let lines: Vec<&str> = piped.lines().collect();
        assert_eq!(lines[0], "A  B");
        assert_eq!(lines[1], "x  short");
        // Piped, nothing is cut: a wider cell widens its chunk's column.
        assert_eq!(lines[CHUNK + 1], "x   much longer than the sample");
        assert_eq!(lines[CHUNK + 2], "yy  b");
        // On a terminal, every chunk has the sample's widths.
        let fitted = drawn(Some(12), false, &items);
        let lines: Vec<&str> = fitted.lines().collect();
        assert_eq!(lines[CHUNK + 1], "x  much…");
        assert_eq!(lines[CHUNK + 2], "…  b");
    }

    #[test]
    fn colour_wraps_the_cell_alone() {
        let text = drawn(Some(20), true, &[("red", "b"), ("blue", "c")]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "\x1b[31mred\x1b[0m   b");
        assert_eq!(lines[2], "blue  c");
        // A cut cell, `…` and all.
        assert_eq!(
            painted("ab  日本…  x", 4, 5, "32"),
            "ab  \x1b[32m日本…\x1b[0m  x"
        );
        assert_eq!(painted("ab  red", 4, 5, "32"), "ab  \x1b[32mred\x1b[0m");
    }

    /// `Words`, shown as records where its columns cannot share the width.
    struct Records;

    impl Rows for Records {
        type Item = (&'static str, &'static str);

        fn columns(&self) -> &[Column] {
            Words.columns()
        }

        fn cells(&self, item: &Self::Item, form: usize, cells: &mut Vec<String>) {
            Words.cells(item, form, cells)
        }

        fn paint(&self, item: &Self::Item) -> Option<(usize, &'static str)> {
            Words.paint(item)
        }

        fn records_when_cramped(&self) -> bool {
            true
        }
    }

    #[test]
    fn a_cramped_table_of_records_shows_a_line_a_field() {
        let draw = |fit, items: &[(&'static str, &'static str)]| {
            let mut table = StreamTable::new(Records, fit, true);
            let mut out = Vec::new();
            for item in items {
                table.push(item, &mut out).unwrap();
            }
            table.finish(&mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let items = [("red", "and a second"), ("a long", "b")];
        assert_eq!(
            draw(Some(10), &items),
            "A  \x1b[31mred\x1b[0m\nB  and a …\n\nA  a long\nB  b\n"
        );
        // Where the columns fit, and piped, a table as ever.
        assert_eq!(draw(Some(40), &items).lines().next(), Some("A       B"));
        assert_eq!(draw(None, &items).lines().next(), Some("A       B"));
    }

    #[test]
    fn a_last_resort_fits_any_width() {
        let text = drawn(Some(11), false, &[("a long", "and a second")]);
        assert!(text.lines().all(|l| l.width() <= 11), "{text}");
        assert!(text.contains("an…"), "{text}");
        // But for a whole column.
        assert!(text.contains("a long"), "{text}");
    }
}

//! The columns of the event tables of `history` and `show`, drawn by the
//! streamed table of `table`: times to the second, and in `history` the
//! key's current name beside its id.

use crate::model::Event;
use crate::redact::Untrusted;
use crate::table::{Column, Rows, StreamTable};
use crate::time;

/// An event, with its key's current name when the table shows names
/// (`None`: the key was deleted).
pub type EventRow = (Event, Option<String>);

pub struct EventRows {
    names: bool,
}

const WITH_NAMES: [Column; 6] = [
    Column::fixed("WHEN"),
    Column::fixed("ACTION"),
    Column::whole("KEY"),
    Column::shrinking("NAME", 8),
    Column::shrinking("ACTOR", 6),
    Column::shrinking("DETAIL", 6),
];
const WITHOUT_NAMES: [Column; 5] = [
    Column::fixed("WHEN"),
    Column::fixed("ACTION"),
    Column::whole("KEY"),
    Column::shrinking("ACTOR", 6),
    Column::shrinking("DETAIL", 6),
];

impl Rows for EventRows {
    type Item = EventRow;

    fn columns(&self) -> &[Column] {
        if self.names {
            &WITH_NAMES
        } else {
            &WITHOUT_NAMES
        }
    }

    fn cells(&self, (event, name): &EventRow, _: usize, cells: &mut Vec<String>) {
        cells.extend([
            time::local_seconds(event.at),
            Untrusted(&event.action).to_string(),
            // An owner's own event names the owner where a key's names the key.
            match (&event.key_id, &event.owner) {
                (Some(id), _) => Untrusted(id).to_string(),
                (None, owner) => format!("owner:{}", Untrusted::or(owner.as_deref(), "-")),
            },
        ]);
        if self.names {
            let shown = match event.key_id {
                Some(_) => Untrusted::or(name.as_deref(), "(deleted)").to_string(),
                None => "-".to_owned(),
            };
            cells.push(shown);
        }
        cells.extend([
            Untrusted(&event.actor).to_string(),
            Untrusted::or(event.detail.as_deref(), "-").to_string(),
        ]);
    }
}

/// The table of events, with a NAME column when `names`.
pub fn event_table(names: bool, fit: Option<usize>) -> StreamTable<EventRows> {
    // Events are not coloured.
    StreamTable::new(EventRows { names }, fit, false)
}

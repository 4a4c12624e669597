//! The columns of `owner list`, drawn by the streamed table of `table`.

use crate::model::{OwnerRecord, RateLimit};
use crate::redact::Untrusted;
use crate::table::{Column, Rows, StreamTable};
use crate::time;

pub struct OwnerRows;

const COLUMNS: [Column; 6] = [
    Column::shrinking("OWNER", 12),
    Column::fixed("STATUS"),
    Column::fixed("KEYS"),
    Column::fixed("USES LEFT"),
    Column::fixed("RATE"),
    Column::fixed("CREATED"),
];

impl Rows for OwnerRows {
    type Item = OwnerRecord;

    fn columns(&self) -> &[Column] {
        &COLUMNS
    }

    fn cells(&self, owner: &OwnerRecord, _: usize, cells: &mut Vec<String>) {
        cells.extend([
            Untrusted(&owner.id).to_string(),
            owner.status().as_str().to_owned(),
            owner.keys.to_string(),
            owner
                .limits
                .uses_left_at(time::now())
                .map_or("unlimited".to_owned(), |n| n.to_string()),
            owner.limits.rate.map_or("-".to_owned(), RateLimit::display),
            time::local_minutes(owner.created_at),
        ]);
    }

    fn paint(&self, owner: &OwnerRecord) -> Option<(usize, &'static str)> {
        Some((1, if owner.disabled { "31" } else { "32" }))
    }
}

/// The table of owners.
pub fn owner_table(fit: Option<usize>, color: bool) -> StreamTable<OwnerRows> {
    StreamTable::new(OwnerRows, fit, color)
}

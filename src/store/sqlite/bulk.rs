//! The inserter of `insert_batch` and the importer of `import`: many rows
//! in one transaction, on statements prepared once.

use rusqlite::{Connection, Statement, params};

use super::errors::failure;
use super::rows::{ensure_owner, insert_key_with, save_owner};
use crate::error::{Error, Result, StoreFault};
use crate::store::{Copied, Event, Importer, Item, KeyInserter, KeyRecord};

/// The inserter `insert_batch` hands out: remembers the range of rows it
/// added, so they can be read back after the commit.
pub(super) struct BatchInserter<'t> {
    pub(super) tx: &'t Connection,
    // Prepared once: a cached lookup per row would hash the SQL text each time.
    pub(super) insert_key: Statement<'t>,
    pub(super) insert_event: Statement<'t>,
    pub(super) shown: &'t str,
    pub(super) rows: Option<(i64, i64)>,
}

impl KeyInserter for BatchInserter<'_> {
    fn insert(&mut self, keys: &[KeyRecord], events: &[Event]) -> Result<Vec<usize>> {
        let shown = self.shown;
        let fail = |e: rusqlite::Error| failure(shown, &e);
        let mut taken = Vec::new();
        for (i, (key, event)) in keys.iter().zip(events).enumerate() {
            if !insert_key_with(&mut self.insert_key, key).map_err(fail)? {
                taken.push(i);
                continue;
            }
            let seq = self.tx.last_insert_rowid();
            self.rows = Some(self.rows.map_or((seq, seq), |(first, _)| (first, seq)));
            self.insert_event
                .execute(params![
                    event.at,
                    event.action,
                    event.key_id,
                    event.actor,
                    event.detail,
                    event.owner,
                    seq
                ])
                .map_err(fail)?;
            ensure_owner(self.tx, key).map_err(fail)?;
        }
        Ok(taken)
    }
}

/// `import`'s importer: one prepared statement per kind of row.
pub(super) struct CopyImporter<'t> {
    pub(super) tx: &'t Connection,
    pub(super) insert_key: Statement<'t>,
    pub(super) insert_usage: Statement<'t>,
    pub(super) insert_event: Statement<'t>,
    pub(super) shown: &'t str,
    pub(super) copied: Copied,
}

impl Importer for CopyImporter<'_> {
    fn add(&mut self, item: Item<'_>) -> Result<()> {
        let shown = self.shown;
        let fail = |e: rusqlite::Error| failure(shown, &e);
        match item {
            Item::Owner(owner) => {
                save_owner(self.tx, owner).map_err(fail)?;
                self.copied.owners += 1;
            }
            Item::Key(key) => {
                if !insert_key_with(&mut self.insert_key, key).map_err(fail)? {
                    return Err(Error::store(
                        StoreFault::Damaged,
                        format!("the copy holds key {} twice; nothing was copied", key.id),
                    ));
                }
                ensure_owner(self.tx, key).map_err(fail)?;
                if key.use_count > 0 || key.last_used_at.is_some() {
                    self.insert_usage
                        .execute(params![
                            self.tx.last_insert_rowid(),
                            key.last_used_at.unwrap_or(key.created_at),
                            key.use_count
                        ])
                        .map_err(fail)?;
                }
                self.copied.keys += 1;
            }
            Item::Event(event) => {
                self.insert_event
                    .execute(params![
                        event.at,
                        event.action,
                        event.key_id,
                        event.actor,
                        event.detail,
                        event.owner
                    ])
                    .map_err(fail)?;
                self.copied.events += 1;
            }
        }
        Ok(())
    }
}

//! The inserter of `insert_batch` and the importer of `import`: many rows
//! a statement, as column arrays.

use tokio::runtime::Runtime;
use tokio_postgres::Transaction;
use tokio_postgres::types::ToSql;

use super::columns::{EventColumns, KeyColumns};
use super::errors::failure;
use super::sql::{ENSURE_OWNERS, IMPORT_EVENTS, IMPORT_KEYS};
use super::transaction::save_owner;
use crate::error::Result;
use crate::store::{Copied, Event, Importer, Item, KeyInserter, KeyRecord};

/// Keys sent per statement by bulk inserts.
pub(super) const BATCH_ROWS: usize = 2_000;

/// `insert_batch`'s inserter: sends the keys of each call in one
/// statement, and keeps the `seq` of each so they can be read back after
/// the commit.
pub(super) struct BatchInserter<'a, 't> {
    pub(super) runtime: &'a Runtime,
    pub(super) tx: &'a Transaction<'t>,
    pub(super) statement: tokio_postgres::Statement,
    pub(super) shown: &'a str,
    pub(super) seqs: Vec<i64>,
}

impl KeyInserter for BatchInserter<'_, '_> {
    fn insert(&mut self, keys: &[KeyRecord], events: &[Event]) -> Result<Vec<usize>> {
        let mut taken = Vec::new();
        let chunks = keys.chunks(BATCH_ROWS).zip(events.chunks(BATCH_ROWS));
        for (n, (key_chunk, event_chunk)) in chunks.enumerate() {
            let offset = n * BATCH_ROWS;
            let mut columns = KeyColumns::default();
            let mut event_columns = EventColumns::default();
            key_chunk.iter().for_each(|key| columns.push(key));
            event_chunk
                .iter()
                .for_each(|event| event_columns.push(event));
            let mut params: Vec<&(dyn ToSql + Sync)> = columns.params().to_vec();
            params.extend(event_columns.params());
            let rows = self
                .runtime
                .block_on(self.tx.query(&self.statement, &params))
                .map_err(|e| failure(self.shown, e.into()))?;
            self.runtime
                .block_on(self.tx.execute(ENSURE_OWNERS, &[&columns.owner]))
                .map_err(|e| failure(self.shown, e.into()))?;
            // A key whose id is taken is skipped (ON CONFLICT DO NOTHING),
            // and so is its event: as in SQLite, the caller mints it again.
            let mut added = std::collections::HashSet::with_capacity(rows.len());
            for row in rows {
                let seq: i64 = row.try_get(0).map_err(|e| failure(self.shown, e.into()))?;
                let id: String = row.try_get(1).map_err(|e| failure(self.shown, e.into()))?;
                self.seqs.push(seq);
                added.insert(id);
            }
            taken.extend(
                key_chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, key)| !added.contains(&key.id))
                    .map(|(i, _)| offset + i),
            );
        }
        Ok(taken)
    }
}

/// `import`'s importer: keys many to a statement, then events likewise.
pub(super) struct BatchImporter<'a, 't> {
    pub(super) runtime: &'a Runtime,
    pub(super) tx: &'a Transaction<'t>,
    pub(super) shown: &'a str,
    pub(super) keys: KeyColumns,
    pub(super) used: (Vec<String>, Vec<i64>, Vec<i64>),
    pub(super) events: EventColumns,
    pub(super) copied: Copied,
}

impl BatchImporter<'_, '_> {
    pub(super) fn flush(&mut self) -> Result<()> {
        let fail = |e: tokio_postgres::Error| failure(self.shown, e.into());
        if self.keys.len() > 0 {
            let mut params: Vec<&(dyn ToSql + Sync)> = self.keys.params().to_vec();
            params.extend([
                &self.used.0 as &(dyn ToSql + Sync),
                &self.used.1,
                &self.used.2,
            ]);
            self.runtime
                .block_on(self.tx.execute(IMPORT_KEYS, &params))
                .map_err(fail)?;
            self.runtime
                .block_on(self.tx.execute(ENSURE_OWNERS, &[&self.keys.owner]))
                .map_err(fail)?;
            self.keys = KeyColumns::default();
            self.used = Default::default();
        }
        if self.events.len() > 0 {
            self.runtime
                .block_on(self.tx.execute(IMPORT_EVENTS, &self.events.params()))
                .map_err(fail)?;
            self.events = EventColumns::default();
        }
        Ok(())
    }
}

impl Importer for BatchImporter<'_, '_> {
    fn add(&mut self, item: Item<'_>) -> Result<()> {
        match item {
            Item::Owner(owner) => {
                self.runtime
                    .block_on(save_owner(self.tx, owner))
                    .map_err(|f| failure(self.shown, f))?;
                self.copied.owners += 1;
            }
            Item::Key(key) => {
                // Events resolve their key's `seq`: keys go first.
                if self.events.len() > 0 {
                    self.flush()?;
                }
                self.keys.push(key);
                if key.use_count > 0 || key.last_used_at.is_some() {
                    self.used.0.push(key.id.clone());
                    self.used.1.push(key.last_used_at.unwrap_or(key.created_at));
                    self.used.2.push(key.use_count);
                }
                self.copied.keys += 1;
            }
            Item::Event(event) => {
                if self.keys.len() > 0 {
                    self.flush()?;
                }
                self.events.push(event);
                self.copied.events += 1;
            }
        }
        if self.keys.len() + self.events.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }
}

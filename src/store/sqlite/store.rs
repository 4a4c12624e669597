//! `Store` on SQLite: reads, uses, listings and whole-store copies.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::SqliteStore;
use super::bulk::{BatchInserter, CopyImporter};
use super::errors::failure;
use super::rows::{
    credential_from_row, event_from_row, key_from_row, key_into_slot, limits_from_row,
    owner_from_row, select_key, sql_limit,
};
use super::schema::SCHEMA_VERSION;
use super::sql::*;
use super::transaction::SqliteTransaction;
use crate::error::{Error, Result, StoreFault};
use crate::store::{
    Copied, Credential, Event, EventFilter, Importer, Item, KeyFilter, KeyInserter, KeyRecord,
    LeaseAnswer, LeaseAsk, Limits, OwnerRecord, Spent, Status, Store, Timestamp, Transaction,
    UsesLeft,
};

/// Page cache for bulk writes, in KiB (SQLite reads a negative size as KiB).
const BULK_CACHE_KIB: i64 = -65_536;

impl SqliteStore {
    fn read<T>(&self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        work(&self.conn).map_err(|e| failure(&self.shown, &e))
    }

    /// Runs `work` in one IMMEDIATE write transaction and commits.
    fn write_sql<T>(&mut self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let run = |conn: &mut Connection| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = work(&tx)?;
            tx.commit()?;
            Ok(value)
        };
        run(&mut self.conn).map_err(|e| failure(&self.shown, &e))
    }

    /// A write transaction for many rows. A large one touches many index
    /// pages: a bigger page cache keeps them in memory instead of spilling
    /// to the WAL before the commit.
    fn bulk_transaction(&mut self) -> Result<rusqlite::Transaction<'_>> {
        let shown = &self.shown;
        self.conn
            .pragma_update(None, "cache_size", BULK_CACHE_KIB)
            .map_err(|e| failure(shown, &e))?;
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| failure(shown, &e))
    }

    /// SQLite's online backup of every page into `dest`, a new file.
    fn backup_pages(&mut self, dest: &Path) -> Result<()> {
        if self.conn.path().is_none_or(str::is_empty) {
            return Err(Error::store(
                StoreFault::Unavailable,
                format!(
                    "there is no store at {} yet: nothing to back up",
                    self.shown
                ),
            ));
        }
        let shown_dest = dest.display().to_string();
        let mut copy = Connection::open(dest).map_err(|e| failure(&shown_dest, &e))?;
        let backup = rusqlite::backup::Backup::new(&self.conn, &mut copy)
            .map_err(|e| failure(&self.shown, &e))?;
        // All pages in one step: one read transaction, so the copy is a
        // consistent snapshot even while other processes write (WAL).
        loop {
            match backup.step(-1).map_err(|e| failure(&self.shown, &e))? {
                rusqlite::backup::StepResult::Done => break,
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        drop(backup);
        // The copy is a store of its own: rollback journal, nothing left in a WAL.
        copy.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
            .map_err(|e| failure(&shown_dest, &e))?;
        copy.close().map_err(|(_, e)| failure(&shown_dest, &e))
    }
}

impl Store for SqliteStore {
    fn schema_version(&self) -> i64 {
        SCHEMA_VERSION
    }

    fn write(&mut self, work: &mut dyn FnMut(&mut dyn Transaction) -> Result<()>) -> Result<()> {
        let shown = self.shown.as_str();
        // IMMEDIATE: the write lock up front (a deferred transaction could
        // fail busy on its first write without waiting).
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| failure(shown, &e))?;
        tx.execute_batch(COUNT_CHANGE)
            .map_err(|e| failure(shown, &e))?;
        work(&mut SqliteTransaction { conn: &tx, shown })?;
        tx.commit().map_err(|e| failure(shown, &e))
    }

    fn insert_batch(
        &mut self,
        fill: &mut dyn FnMut(&mut dyn KeyInserter) -> Result<()>,
        committed: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> Result<u64> {
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        let tx = self.bulk_transaction()?;
        tx.execute_batch(COUNT_CHANGE).map_err(fail)?;
        let mut inserter = BatchInserter {
            tx: &tx,
            insert_key: tx.prepare(INSERT_KEY).map_err(fail)?,
            insert_event: tx.prepare(INSERT_EVENT_WITH_SEQ).map_err(fail)?,
            shown: &shown,
            rows: None,
        };
        fill(&mut inserter)?;
        let rows = inserter.rows;
        drop(inserter);
        tx.commit().map_err(fail)?;
        let Some((first, last)) = rows else {
            return Ok(0);
        };
        // The write lock was held throughout: every row in the range is new.
        let mut stmt = self
            .conn
            .prepare_cached(SELECT_NEW_KEYS_IN_RANGE)
            .map_err(fail)?;
        let mut rows = stmt.query([first, last]).map_err(fail)?;
        let mut count = 0;
        let mut key: Option<KeyRecord> = None;
        while let Some(row) = rows.next().map_err(fail)? {
            committed(key_into_slot(row, &mut key).map_err(fail)?)?;
            count += 1;
        }
        Ok(count)
    }

    fn key_by_id(&mut self, id: &str) -> Result<Option<KeyRecord>> {
        self.read(|conn| select_key(conn, id))
    }

    fn credentials(
        &mut self,
        ids: &[&str],
        each: &mut dyn FnMut(usize, Option<Credential>) -> Result<()>,
    ) -> Result<()> {
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        let lookup = |conn: &Connection, id: &str| {
            conn.prepare_cached(SELECT_CREDENTIAL)?
                .query_row([id], credential_from_row)
                .optional()
        };
        if let [id] = ids {
            // One statement is its own consistent view.
            let found = lookup(&self.conn, id).map_err(fail)?;
            return each(0, found);
        }
        // One read transaction: one snapshot, one lock taken for all.
        let tx = self.conn.transaction().map_err(fail)?;
        for (i, id) in ids.iter().enumerate() {
            each(i, lookup(&tx, id).map_err(fail)?)?;
        }
        tx.commit().map_err(fail)
    }

    fn keys_by_name(&mut self, name: &str) -> Result<Vec<KeyRecord>> {
        self.read(|conn| {
            conn.prepare_cached(SELECT_KEYS_BY_NAME)?
                .query_map([name], key_from_row)?
                .collect()
        })
    }

    fn events(
        &mut self,
        filter: &EventFilter<'_>,
        each: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()> {
        let key_id = filter.key_id;
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        // A stored key's events by its `seq` (the id check guards against a
        // reused `seq`); a deleted key's by scanning for its id.
        let seq = match key_id {
            Some(id) => self
                .conn
                .prepare_cached(SELECT_SEQ_BY_ID)
                .and_then(|mut s| s.query_row([id], |r| r.get::<_, i64>(0)).optional())
                .map_err(fail)?,
            None => None,
        };
        let sql = match (key_id, seq) {
            (None, _) if filter.owner.is_some() => SELECT_EVENTS_OF_OWNER,
            (None, _) => SELECT_EVENTS,
            (Some(_), Some(_)) => SELECT_EVENTS_OF_STORED_KEY,
            (Some(_), None) => SELECT_EVENTS_OF_DELETED_KEY,
        };
        // The actions as one JSON array parameter, NULL for every action.
        let actions = (!filter.actions.is_empty())
            .then(|| serde_json::to_string(filter.actions).unwrap_or_default());
        let mut stmt = self.conn.prepare_cached(sql).map_err(fail)?;
        let mut rows = stmt
            .query(params![
                key_id.or(filter.owner),
                sql_limit(filter.limit),
                seq,
                filter.since,
                actions
            ])
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            each(event_from_row(row).map_err(fail)?)?;
        }
        Ok(())
    }

    fn owner(&mut self, id: &str) -> Result<Option<OwnerRecord>> {
        self.read(|conn| {
            conn.prepare_cached(SELECT_OWNER)?
                .query_row([id], owner_from_row)
                .optional()
        })
    }

    fn list_owners(&mut self, each: &mut dyn FnMut(&OwnerRecord) -> Result<()>) -> Result<()> {
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        let mut stmt = self.conn.prepare_cached(SELECT_OWNERS).map_err(fail)?;
        let mut rows = stmt.query([]).map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            each(&owner_from_row(row).map_err(fail)?)?;
        }
        Ok(())
    }

    fn prefixes(&mut self) -> Result<Vec<String>> {
        self.read(|conn| {
            conn.prepare_cached(SELECT_PREFIXES)?
                .query_map([], |row| row.get(0))?
                .collect()
        })
    }

    fn services(&mut self) -> Result<Vec<String>> {
        self.read(|conn| {
            conn.prepare_cached(SELECT_SERVICES)?
                .query_map([], |row| row.get(0))?
                .collect()
        })
    }

    fn still_at_location(&mut self) -> Result<bool> {
        self.on_the_file_at_path()
    }

    fn set_busy_timeout(&mut self, busy: Duration) -> Result<()> {
        self.set_busy(busy)
    }

    fn change_counter(&mut self) -> Result<Option<u64>> {
        // A read of one cached page while nothing changed: microseconds.
        self.read(|conn| {
            conn.prepare_cached(SELECT_CHANGE_COUNTER)?
                .query_row([], |row| row.get::<_, i64>(0))
        })
        .map(|n| Some(n as u64))
    }

    fn online_backup(&mut self, dest: &Path) -> Option<Result<()>> {
        Some(self.backup_pages(dest))
    }

    fn record_use_counts(&mut self, uses: &[(&str, u64)], at: Timestamp) -> Result<()> {
        let shown = self.shown.as_str();
        if let [(id, count)] = uses {
            // One key (`verify`): one statement, its own transaction.
            let count = i64::try_from(*count).unwrap_or(i64::MAX);
            return self
                .conn
                .prepare_cached(RECORD_USE_BY_ID)
                .and_then(|mut s| s.execute(params![id, at, count]))
                .map(drop)
                .map_err(|e| failure(shown, &e));
        }
        // Escaped as JSON: an id a library caller passes may hold anything.
        let (statement, json) = if uses.iter().all(|(_, n)| *n == 1) {
            let ids: Vec<&str> = uses.iter().map(|(id, _)| *id).collect();
            (RECORD_USES_BY_ID, serde_json::to_string(&ids))
        } else {
            (RECORD_USE_COUNTS_BY_ID, serde_json::to_string(uses))
        };
        let json = json.map_err(|e| Error::output(e.into()))?;
        self.write_sql(|tx| {
            tx.prepare_cached(statement)?
                .execute(params![json, at])
                .map(drop)
        })
    }

    fn lease(&mut self, asks: &[LeaseAsk]) -> Result<Vec<LeaseAnswer>> {
        // IMMEDIATE, as a spend: the subjects' leases are read and written
        // under the file's write lock.
        self.write_sql(|tx| super::leases::lease(tx, asks, crate::time::host_clock_ms()))
    }

    fn spend_uses(&mut self, wanted: &[(&str, u64)], at: Timestamp) -> Result<Vec<Option<Spent>>> {
        // IMMEDIATE: the write lock is held from the read of what is left
        // to the commit, so no other process spends the same uses.
        self.write_sql(|tx| {
            let mut left = UsesLeft::default();
            for &(id, _) in wanted {
                if left.keys.contains_key(id) {
                    continue;
                }
                let found: Option<(Option<String>, Limits)> = tx
                    .prepare_cached(SELECT_REMAINING_USES)?
                    .query_row([id], |r| Ok((r.get(0)?, limits_from_row(r, 1)?)))
                    .optional()?;
                let Some((owner, limits)) = found else {
                    continue;
                };
                if let Some(owner) = owner.as_ref().filter(|o| !left.owners.contains_key(*o)) {
                    let owner_limits: Option<Limits> = tx
                        .prepare_cached(SELECT_OWNER_USES)?
                        .query_row([owner], |r| limits_from_row(r, 0))
                        .optional()?;
                    left.owners
                        .insert(owner.clone(), owner_limits.unwrap_or_default());
                }
                left.keys.insert(id.to_owned(), (limits, owner));
            }
            let answers = left.grant(wanted, at);
            // Each granted entry is one use of its key (a batch may hold
            // thousands of entries: counted by id, in first-seen order).
            let mut granted: Vec<(&str, u64)> = Vec::new();
            let mut at_index: std::collections::HashMap<&str, usize> =
                std::collections::HashMap::new();
            for (&(id, _), spent) in wanted.iter().zip(&answers) {
                let Some(spent) = spent else { continue };
                let i = *at_index.entry(id).or_insert_with(|| {
                    granted.push((id, 0));
                    granted.len() - 1
                });
                granted[i].1 += u64::from(spent.granted);
            }
            let mut owners_spent: Vec<&str> = Vec::new();
            let mut owners_seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
            for &(id, total) in granted.iter().filter(|(_, total)| *total > 0) {
                let (limits, owner) = &left.keys[id];
                if limits.remaining_uses.is_some() {
                    let refilled_at = limits.refill.map(|r| r.refilled_at);
                    tx.prepare_cached(UPDATE_REMAINING_USES)?.execute(params![
                        id,
                        limits.remaining_uses,
                        refilled_at
                    ])?;
                }
                if let Some(owner) = owner.as_deref()
                    && owners_seen.insert(owner)
                {
                    owners_spent.push(owner);
                }
                let count = i64::try_from(total).unwrap_or(i64::MAX);
                tx.prepare_cached(RECORD_USE_BY_ID)?
                    .execute(params![id, at, count])?;
            }
            for owner in owners_spent {
                let limits = &left.owners[owner];
                if limits.remaining_uses.is_some() {
                    let refilled_at = limits.refill.map(|r| r.refilled_at);
                    tx.prepare_cached(UPDATE_OWNER_USES)?.execute(params![
                        owner,
                        limits.remaining_uses,
                        refilled_at
                    ])?;
                }
            }
            Ok(answers)
        })
    }

    fn list_keys(
        &mut self,
        filter: &KeyFilter,
        each: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> Result<()> {
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        if filter.is_everything() {
            // Two statements, one snapshot.
            self.conn.execute_batch("BEGIN").map_err(fail)?;
            let listed = self.list_all(sql_limit(filter.limit), each);
            let ended = self.conn.execute_batch("COMMIT");
            let listed = listed.map_err(fail)?;
            ended.map_err(fail)?;
            return listed;
        }
        let mut stmt = self
            .conn
            .prepare_cached(&filter.order.sql(SELECT_KEYS_FILTERED, "?4"))
            .map_err(fail)?;
        let mut rows = stmt
            .query(params![
                filter.service,
                filter.status.map(Status::as_str),
                filter.now,
                sql_limit(filter.limit),
                filter.expiring_by,
                filter.unused_since,
                filter.owner,
            ])
            .map_err(fail)?;
        let mut key: Option<KeyRecord> = None;
        while let Some(row) = rows.next().map_err(fail)? {
            each(key_into_slot(row, &mut key).map_err(fail)?)?;
        }
        Ok(())
    }

    fn export(&mut self, each: &mut dyn FnMut(Item<'_>) -> Result<()>) -> Result<()> {
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        // One read transaction: a consistent snapshot while others write.
        self.conn.execute_batch("BEGIN").map_err(fail)?;
        let exported = self.export_from(each);
        let ended = self.conn.execute_batch("COMMIT");
        let exported = exported.map_err(fail)?;
        ended.map_err(fail)?;
        exported
    }

    fn import(&mut self, fill: &mut dyn FnMut(&mut dyn Importer) -> Result<()>) -> Result<Copied> {
        let shown = self.shown.clone();
        let fail = |e: rusqlite::Error| failure(&shown, &e);
        let tx = self.bulk_transaction()?;
        let occupied: bool = tx
            .query_row(SELECT_OCCUPIED, [], |row| row.get(0))
            .map_err(fail)?;
        if occupied {
            return Err(crate::store::occupied(&shown));
        }
        tx.execute_batch(COUNT_CHANGE).map_err(fail)?;
        let mut importer = CopyImporter {
            tx: &tx,
            insert_key: tx.prepare(INSERT_KEY).map_err(fail)?,
            insert_usage: tx.prepare(INSERT_USAGE).map_err(fail)?,
            insert_event: tx.prepare(INSERT_EVENT).map_err(fail)?,
            shown: &shown,
            copied: Copied::default(),
        };
        fill(&mut importer)?;
        let copied = importer.copied;
        drop(importer);
        tx.commit().map_err(fail)?;
        Ok(copied)
    }
}

impl SqliteStore {
    /// Every key newest first, each with its uses, found by walking `usage`
    /// down in the same order beside the keys: a merge, not a search per row.
    fn list_all(
        &self,
        limit: i64,
        each: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> rusqlite::Result<Result<()>> {
        let mut keys = self.conn.prepare_cached(SELECT_KEYS_NEWEST)?;
        let mut key_rows = keys.query([limit])?;
        let mut usage = self.conn.prepare_cached(SELECT_USAGE_NEWEST)?;
        let mut usage_rows = usage.query([])?;
        // The next use at or below the current key's seq: (seq, last used, count).
        let mut next_use: Option<(i64, i64, i64)> = None;
        let mut usage_done = false;
        let mut key: Option<KeyRecord> = None;
        while let Some(row) = key_rows.next()? {
            let key = key_into_slot(row, &mut key)?;
            let key_seq: i64 = row.get(13)?;
            while !usage_done && next_use.is_none_or(|(seq, _, _)| seq > key_seq) {
                match usage_rows.next()? {
                    Some(u) => next_use = Some((u.get(0)?, u.get(1)?, u.get(2)?)),
                    None => {
                        next_use = None;
                        usage_done = true;
                    }
                }
            }
            (key.last_used_at, key.use_count) = match next_use {
                Some((seq, at, count)) if seq == key_seq => (Some(at), count),
                _ => (None, 0),
            };
            if let Err(e) = each(key) {
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }

    fn export_from(
        &self,
        each: &mut dyn FnMut(Item<'_>) -> Result<()>,
    ) -> rusqlite::Result<Result<()>> {
        let mut owners = self.conn.prepare(SELECT_ALL_OWNERS)?;
        let mut rows = owners.query([])?;
        while let Some(row) = rows.next()? {
            if let Err(e) = each(Item::Owner(&owner_from_row(row)?)) {
                return Ok(Err(e));
            }
        }
        let mut keys = self.conn.prepare(SELECT_ALL_KEYS)?;
        let mut rows = keys.query([])?;
        while let Some(row) = rows.next()? {
            if let Err(e) = each(Item::Key(&key_from_row(row)?)) {
                return Ok(Err(e));
            }
        }
        let mut events = self.conn.prepare(SELECT_ALL_EVENTS)?;
        let mut rows = events.query([])?;
        while let Some(row) = rows.next()? {
            if let Err(e) = each(Item::Event(&event_from_row(row)?)) {
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }
}

//! `Store::write`'s steps on SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use super::errors::failure;
use super::rows::{
    ensure_owner, insert_event, insert_key_with, owner_from_row, save_owner, select_key,
};
use super::sql::{
    DELETE_KEY, DELETE_OWNER, DELETE_USAGE, INSERT_KEY, SAVE_KEY, SELECT_OWNER, SELECT_SEQ_BY_ID,
};
use crate::error::Result;
use crate::store::{Event, KeyRecord, OwnerRecord, Transaction};

/// The steps of `Store::write`, inside one IMMEDIATE transaction: the
/// write lock is held from its start, so reading a key locks it too.
pub(super) struct SqliteTransaction<'t> {
    pub(super) conn: &'t Connection,
    pub(super) shown: &'t str,
}

impl SqliteTransaction<'_> {
    fn run<T>(&self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        work(self.conn).map_err(|e| failure(self.shown, &e))
    }
}

impl Transaction for SqliteTransaction<'_> {
    fn lock_key(&mut self, id: &str) -> Result<Option<KeyRecord>> {
        self.run(|conn| select_key(conn, id))
    }

    fn insert_key(&mut self, key: &KeyRecord) -> Result<bool> {
        self.run(|conn| {
            let inserted = insert_key_with(&mut *conn.prepare_cached(INSERT_KEY)?, key)?;
            if inserted {
                ensure_owner(conn, key)?;
            }
            Ok(inserted)
        })
    }

    fn save_key(&mut self, key: &KeyRecord) -> Result<()> {
        let (refill_every, refill_uses, refilled_at) = crate::refill::columns(key.limits.refill);
        self.run(|conn| {
            conn.prepare_cached(SAVE_KEY)?.execute(params![
                key.id,
                key.name,
                key.description,
                key.service,
                key.disabled,
                key.expires_at,
                key.replaced_by,
                key.limits.scopes_text(),
                key.limits.remaining_uses,
                key.limits.rate.map(|r| r.limit),
                key.limits.rate.map(|r| r.per_seconds),
                key.owner,
                key.meta,
                refill_every,
                refill_uses,
                refilled_at,
                crate::ip::stored(&key.limits.allow_ip),
            ])?;
            ensure_owner(conn, key)
        })
    }

    fn delete_key(&mut self, id: &str) -> Result<bool> {
        self.run(|conn| {
            let seq: Option<i64> = conn
                .prepare_cached(SELECT_SEQ_BY_ID)?
                .query_row([id], |r| r.get(0))
                .optional()?;
            let Some(seq) = seq else {
                return Ok(false);
            };
            // Its uses go with it: a later key may be given the same `seq`.
            conn.prepare_cached(DELETE_USAGE)?.execute([seq])?;
            conn.prepare_cached(DELETE_KEY)?.execute([seq])?;
            Ok(true)
        })
    }

    fn append_event(&mut self, event: &Event) -> Result<()> {
        self.run(|conn| insert_event(conn, event))
    }

    fn lock_owner(&mut self, id: &str) -> Result<Option<OwnerRecord>> {
        // The IMMEDIATE transaction holds the write lock: reading locks it.
        self.run(|conn| {
            conn.prepare_cached(SELECT_OWNER)?
                .query_row([id], owner_from_row)
                .optional()
        })
    }

    fn save_owner(&mut self, owner: &OwnerRecord) -> Result<()> {
        self.run(|conn| save_owner(conn, owner))
    }

    fn delete_owner(&mut self, id: &str) -> Result<bool> {
        self.run(|conn| Ok(conn.prepare_cached(DELETE_OWNER)?.execute([id])? > 0))
    }
}

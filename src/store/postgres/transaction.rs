//! `Store::write`'s steps on one PostgreSQL transaction.

use tokio::runtime::Runtime;
use tokio_postgres::Transaction;
use tokio_postgres::types::{ToSql, Type};

use super::errors::failure;
use super::rows::{key_from_row, owner_from_row, rate_columns};
use super::sql::{
    DELETE_KEY, DELETE_OWNER, DURABLE_COMMIT, ENSURE_OWNERS, INSERT_EVENT, INSERT_KEY, KEY_TYPES,
    LOCK_KEY_BY_ID, LOCK_OWNER, SAVE_KEY, SAVE_OWNER,
};
use super::{Pg, storable};
use crate::error::Result;
use crate::store::{Event, KeyRecord, OwnerRecord};

pub(super) async fn lock_key(tx: &Transaction<'_>, id: &str) -> Pg<Option<KeyRecord>> {
    let rows = tx.query_typed(LOCK_KEY_BY_ID, &[(&id, Type::TEXT)]).await?;
    rows.first().map(key_from_row).transpose()
}

pub(super) async fn insert_key(tx: &Transaction<'_>, key: &KeyRecord) -> Pg<bool> {
    let hash: &[u8] = &key.hash.0;
    let scopes = key.limits.scopes_text();
    let (rate_limit, rate_per) = rate_columns(key);
    let (refill_every, refill_uses, refilled_at) = crate::refill::columns(key.limits.refill);
    let allow_ip = crate::ip::stored(&key.limits.allow_ip);
    let values: [&(dyn ToSql + Sync); 21] = [
        &key.id,
        &hash,
        &key.prefix,
        &key.name,
        &key.description,
        &key.service,
        &key.disabled,
        &key.created_at,
        &key.expires_at,
        &key.rotated_from,
        &key.replaced_by,
        &scopes,
        &key.limits.remaining_uses,
        &rate_limit,
        &rate_per,
        &key.owner,
        &key.meta,
        &refill_every,
        &refill_uses,
        &refilled_at,
        &allow_ip,
    ];
    let params: Vec<(&(dyn ToSql + Sync), Type)> =
        values.into_iter().zip(KEY_TYPES.iter().cloned()).collect();
    let inserted = tx.execute_typed(INSERT_KEY, &params).await? == 1;
    if inserted {
        ensure_owner(tx, key).await?;
    }
    Ok(inserted)
}

/// Adds or changes an owner (`Transaction::save_owner`, and copies).
pub(super) async fn save_owner(tx: &Transaction<'_>, owner: &OwnerRecord) -> Pg<()> {
    let rate = owner.limits.rate;
    let (refill_every, refill_uses, refilled_at) = crate::refill::columns(owner.limits.refill);
    tx.execute_typed(
        SAVE_OWNER,
        &[
            (&owner.id, Type::TEXT),
            (&owner.disabled, Type::BOOL),
            (&owner.created_at, Type::INT8),
            (&owner.limits.remaining_uses, Type::INT8),
            (&rate.map(|r| i64::from(r.limit)), Type::INT8),
            (&rate.map(|r| i64::from(r.per_seconds)), Type::INT8),
            (&refill_every, Type::TEXT),
            (&refill_uses, Type::INT8),
            (&refilled_at, Type::INT8),
            (&crate::ip::stored(&owner.limits.allow_ip), Type::TEXT),
        ],
    )
    .await?;
    Ok(())
}

/// Makes the record of the key's owner, if it names one without a record.
async fn ensure_owner(tx: &Transaction<'_>, key: &KeyRecord) -> Pg<()> {
    if let Some(owner) = &key.owner {
        tx.execute(ENSURE_OWNERS, &[&vec![owner.as_str()]]).await?;
    }
    Ok(())
}

pub(super) async fn insert_event(tx: &Transaction<'_>, event: &Event) -> Pg<()> {
    tx.execute_typed(
        INSERT_EVENT,
        &[
            (&event.at, Type::INT8),
            (&event.action, Type::TEXT),
            (&event.key_id, Type::TEXT),
            (&event.actor, Type::TEXT),
            (&event.detail, Type::TEXT),
            (&event.owner, Type::TEXT),
        ],
    )
    .await?;
    Ok(())
}

/// The steps of `Store::write` on one PostgreSQL transaction.
pub(super) struct PgTransaction<'a, 't> {
    pub(super) runtime: &'a Runtime,
    pub(super) tx: &'a Transaction<'t>,
    pub(super) shown: &'a str,
    /// Whether this transaction already asked for a durable commit.
    pub(super) durable: bool,
}

impl PgTransaction<'_, '_> {
    fn run<T>(&self, work: impl Future<Output = Pg<T>>) -> Result<T> {
        self.runtime
            .block_on(work)
            .map_err(|f| failure(self.shown, f))
    }
}

impl crate::store::Transaction for PgTransaction<'_, '_> {
    fn lock_key(&mut self, id: &str) -> Result<Option<KeyRecord>> {
        if !storable(id) {
            return Ok(None);
        }
        self.run(lock_key(self.tx, id))
    }

    fn insert_key(&mut self, key: &KeyRecord) -> Result<bool> {
        if !self.durable {
            self.run(async { Ok(self.tx.batch_execute(DURABLE_COMMIT).await?) })?;
            self.durable = true;
        }
        self.run(insert_key(self.tx, key))
    }

    fn save_key(&mut self, key: &KeyRecord) -> Result<()> {
        let (refill_every, refill_uses, refilled_at) = crate::refill::columns(key.limits.refill);
        let scopes = key.limits.scopes_text();
        let (rate_limit, rate_per) = rate_columns(key);
        self.run(async {
            self.tx
                .execute_typed(
                    SAVE_KEY,
                    &[
                        (&key.id, Type::TEXT),
                        (&key.name, Type::TEXT),
                        (&key.description, Type::TEXT),
                        (&key.service, Type::TEXT),
                        (&key.disabled, Type::BOOL),
                        (&key.expires_at, Type::INT8),
                        (&key.replaced_by, Type::TEXT),
                        (&scopes, Type::TEXT),
                        (&key.limits.remaining_uses, Type::INT8),
                        (&rate_limit, Type::INT8),
                        (&rate_per, Type::INT8),
                        (&key.owner, Type::TEXT),
                        (&key.meta, Type::TEXT),
                        (&refill_every, Type::TEXT),
                        (&refill_uses, Type::INT8),
                        (&refilled_at, Type::INT8),
                        (&crate::ip::stored(&key.limits.allow_ip), Type::TEXT),
                    ],
                )
                .await?;
            ensure_owner(self.tx, key).await
        })
    }

    fn delete_key(&mut self, id: &str) -> Result<bool> {
        if !storable(id) {
            return Ok(false);
        }
        self.run(async {
            let row = self.tx.query_one(DELETE_KEY, &[&id]).await?;
            Ok(row.try_get::<_, i64>(0)? > 0)
        })
    }

    fn append_event(&mut self, event: &Event) -> Result<()> {
        self.run(insert_event(self.tx, event))
    }

    fn lock_owner(&mut self, id: &str) -> Result<Option<OwnerRecord>> {
        if !storable(id) {
            return Ok(None);
        }
        self.run(async {
            let rows = self
                .tx
                .query_typed(LOCK_OWNER, &[(&id, Type::TEXT)])
                .await?;
            rows.first().map(owner_from_row).transpose()
        })
    }

    fn save_owner(&mut self, owner: &OwnerRecord) -> Result<()> {
        self.run(save_owner(self.tx, owner))
    }

    fn delete_owner(&mut self, id: &str) -> Result<bool> {
        if !storable(id) {
            return Ok(false);
        }
        self.run(async { Ok(self.tx.execute(DELETE_OWNER, &[&id]).await? > 0) })
    }
}

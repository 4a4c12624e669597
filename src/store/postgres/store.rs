//! `Store` on PostgreSQL: reads, uses, listings and whole-store copies.

use std::collections::HashMap;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{IsolationLevel, Row, Transaction};

use super::bulk::{BatchImporter, BatchInserter};
use super::columns::{EventColumns, KeyColumns};
use super::errors::failure;
use super::rows::{
    credential_from_row, event_from_row, key_from_row, limits_from_row, owner_from_row,
};
use super::schema::SCHEMA_VERSION;
use super::sql::*;
use super::transaction::PgTransaction;
use super::{Fault, Pg, PostgresStore, storable};
use crate::error::Result;
use crate::store::{
    Copied, Credential, Event, EventFilter, Importer, Item, KeyFilter, KeyInserter, KeyRecord,
    LeaseAnswer, LeaseAsk, OwnerRecord, Spent, Status, Store, Timestamp, UsesLeft,
};

/// Rows fetched per round trip when streaming.
const FETCH_ROWS: i32 = 2_000;

impl PostgresStore {
    /// Runs `work` in one read-write transaction and commits.
    fn write_async<T>(&mut self, work: impl AsyncFnOnce(&Transaction<'_>) -> Pg<T>) -> Result<T> {
        let client = &mut self.client;
        let done = self.runtime.block_on(async move {
            let tx = client.transaction().await?;
            let value = work(&tx).await?;
            tx.commit().await?;
            Ok(value)
        });
        done.map_err(|f| failure(&self.shown, f))
    }

    /// Streams the rows of `sql` to `each` in batches, from one consistent
    /// snapshot; `each` runs outside the runtime.
    fn stream(
        &mut self,
        queries: &[(&str, &[&(dyn ToSql + Sync)])],
        each: &mut dyn FnMut(usize, &Row) -> Result<()>,
    ) -> Result<()> {
        let shown = self.shown.clone();
        let fail = |f: Fault| failure(&shown, f);
        let runtime = &self.runtime;
        let tx = runtime
            .block_on(
                self.client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start(),
            )
            .map_err(|e| fail(e.into()))?;
        for (index, (sql, params)) in queries.iter().enumerate() {
            let portal = runtime
                .block_on(async {
                    let statement = tx.prepare(sql).await?;
                    tx.bind(&statement, params).await
                })
                .map_err(|e| fail(e.into()))?;
            loop {
                let rows = runtime
                    .block_on(tx.query_portal(&portal, FETCH_ROWS))
                    .map_err(|e| fail(e.into()))?;
                for row in &rows {
                    each(index, row)?;
                }
                if rows.len() < FETCH_ROWS as usize {
                    break;
                }
            }
        }
        runtime.block_on(tx.commit()).map_err(|e| fail(e.into()))
    }

    fn read_keys(
        &mut self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<KeyRecord>> {
        let shown = self.shown.clone();
        let rows = self
            .runtime
            .block_on(self.client.query_typed(sql, params))
            .map_err(|e| failure(&shown, e.into()))?;
        rows.iter()
            .map(key_from_row)
            .collect::<Pg<_>>()
            .map_err(|f| failure(&shown, f))
    }
}

impl Store for PostgresStore {
    fn schema_version(&self) -> i64 {
        i64::from(SCHEMA_VERSION)
    }

    fn write(
        &mut self,
        work: &mut dyn FnMut(&mut dyn crate::store::Transaction) -> Result<()>,
    ) -> Result<()> {
        let PostgresStore {
            runtime,
            client,
            shown,
            ..
        } = self;
        let tx = runtime
            .block_on(async {
                let tx = client.transaction().await?;
                tx.batch_execute(COUNT_CHANGE).await?;
                Ok::<_, tokio_postgres::Error>(tx)
            })
            .map_err(|e| failure(shown, e.into()))?;
        work(&mut PgTransaction {
            runtime,
            tx: &tx,
            shown,
            durable: false,
        })?;
        runtime
            .block_on(tx.commit())
            .map_err(|e| failure(shown, e.into()))
    }

    fn insert_batch(
        &mut self,
        fill: &mut dyn FnMut(&mut dyn KeyInserter) -> Result<()>,
        committed: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> Result<u64> {
        let shown = self.shown.clone();
        let fail = |e: tokio_postgres::Error| failure(&shown, e.into());
        let runtime = &self.runtime;
        let tx = runtime.block_on(self.client.transaction()).map_err(fail)?;
        let statement = runtime
            .block_on(async {
                tx.batch_execute(COUNT_CHANGE).await?;
                tx.batch_execute(DURABLE_COMMIT).await?;
                tx.prepare(INSERT_KEYS_WITH_EVENTS).await
            })
            .map_err(fail)?;
        let mut inserter = BatchInserter {
            runtime,
            tx: &tx,
            statement,
            shown: &shown,
            seqs: Vec::new(),
        };
        fill(&mut inserter)?;
        let mut seqs = std::mem::take(&mut inserter.seqs);
        drop(inserter);
        runtime.block_on(tx.commit()).map_err(fail)?;
        seqs.sort_unstable();
        let mut count = 0;
        for chunk in seqs.chunks(10_000) {
            let keys = self.read_keys(SELECT_KEYS_BY_SEQS, &[(&chunk, Type::INT8_ARRAY)])?;
            for key in keys {
                committed(&key)?;
                count += 1;
            }
        }
        Ok(count)
    }

    fn owner(&mut self, id: &str) -> Result<Option<OwnerRecord>> {
        let shown = self.shown.clone();
        let rows = self
            .runtime
            .block_on(self.client.query_typed(SELECT_OWNER, &[(&id, Type::TEXT)]))
            .map_err(|e| failure(&shown, e.into()))?;
        rows.first()
            .map(owner_from_row)
            .transpose()
            .map_err(|f| failure(&shown, f))
    }

    fn list_owners(&mut self, each: &mut dyn FnMut(&OwnerRecord) -> Result<()>) -> Result<()> {
        let shown = self.shown.clone();
        self.stream(&[(SELECT_OWNERS, &[])], &mut |_, row| {
            each(&owner_from_row(row).map_err(|f| failure(&shown, f))?)
        })
    }

    fn key_by_id(&mut self, id: &str) -> Result<Option<KeyRecord>> {
        if !storable(id) {
            return Ok(None);
        }
        Ok(self
            .read_keys(SELECT_KEY_BY_ID, &[(&id, Type::TEXT)])?
            .into_iter()
            .next())
    }

    fn credentials(
        &mut self,
        ids: &[&str],
        each: &mut dyn FnMut(usize, Option<Credential>) -> Result<()>,
    ) -> Result<()> {
        let shown = self.shown.clone();
        let asked: Vec<&str> = ids.iter().copied().filter(|id| storable(id)).collect();
        let rows = self
            .runtime
            .block_on(
                self.client
                    .query_typed(SELECT_CREDENTIALS, &[(&asked, Type::TEXT_ARRAY)]),
            )
            .map_err(|e| failure(&shown, e.into()))?;
        let found: HashMap<String, Credential> = rows
            .iter()
            .map(|row| credential_from_row(row).map(|c| (c.id.clone(), c)))
            .collect::<Pg<_>>()
            .map_err(|f| failure(&shown, f))?;
        for (i, id) in ids.iter().enumerate() {
            // Cloned: an id may be presented more than once.
            each(i, found.get(*id).cloned())?;
        }
        Ok(())
    }

    fn keys_by_name(&mut self, name: &str) -> Result<Vec<KeyRecord>> {
        if !storable(name) {
            return Ok(Vec::new());
        }
        self.read_keys(SELECT_KEYS_BY_NAME, &[(&name, Type::TEXT)])
    }

    fn events(
        &mut self,
        filter: &EventFilter<'_>,
        each: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()> {
        let key_id = filter.key_id;
        if key_id.is_some_and(|id| !storable(id)) {
            return Ok(());
        }
        let limit = filter.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let actions = (!filter.actions.is_empty()).then_some(filter.actions);
        let shown = self.shown.clone();
        let (sql, id) = match (key_id, filter.owner) {
            (Some(_), _) => (SELECT_EVENTS_OF_KEY, key_id),
            (None, Some(owner)) => (SELECT_EVENTS_OF_OWNER, Some(owner)),
            (None, None) => (SELECT_EVENTS, None),
        };
        let params: [&(dyn ToSql + Sync); 4] = [&id, &limit, &filter.since, &actions];
        self.stream(&[(sql, &params)], &mut |_, row| {
            each(event_from_row(row).map_err(|f| failure(&shown, f))?)
        })
    }

    fn change_counter(&mut self) -> Result<Option<u64>> {
        // Committed changes only (each statement's own snapshot), of every
        // host: one round trip.
        let shown = self.shown.clone();
        let row = self
            .runtime
            .block_on(self.client.query_typed_one(SELECT_CHANGE_COUNTER, &[]))
            .map_err(|e| failure(&shown, e.into()))?;
        Ok(Some(row.get::<_, i64>(0) as u64))
    }

    fn prefixes(&mut self) -> Result<Vec<String>> {
        let shown = self.shown.clone();
        let rows = self
            .runtime
            .block_on(self.client.query_typed(SELECT_PREFIXES, &[]))
            .map_err(|e| failure(&shown, e.into()))?;
        rows.iter()
            .map(|row| row.try_get(0).map_err(|e| failure(&shown, e.into())))
            .collect()
    }

    fn services(&mut self) -> Result<Vec<String>> {
        let shown = self.shown.clone();
        let rows = self
            .runtime
            .block_on(self.client.query_typed(SELECT_SERVICES, &[]))
            .map_err(|e| failure(&shown, e.into()))?;
        rows.iter()
            .map(|row| row.try_get(0).map_err(|e| failure(&shown, e.into())))
            .collect()
    }

    fn record_use_counts(&mut self, uses: &[(&str, u64)], at: Timestamp) -> Result<()> {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let (ids, counts): (Vec<&str>, Vec<i64>) = uses
            .iter()
            .filter(|(id, _)| storable(id))
            .map(|&(id, n)| (id, count(n)))
            .unzip();
        if let ([id], [n]) = (ids.as_slice(), counts.as_slice()) {
            // One key (`verify`): one statement, one round trip.
            let shown = self.shown.clone();
            return self
                .runtime
                .block_on(self.client.execute_typed(
                    RECORD_USE,
                    &[(id, Type::TEXT), (&at, Type::INT8), (n, Type::INT8)],
                ))
                .map(drop)
                .map_err(|e| failure(&shown, e.into()));
        }
        self.write_async(async |tx| {
            tx.execute_typed(
                RECORD_USES,
                &[
                    (&ids, Type::TEXT_ARRAY),
                    (&at, Type::INT8),
                    (&counts, Type::INT8_ARRAY),
                ],
            )
            .await?;
            Ok(())
        })
    }

    fn lease(&mut self, asks: &[LeaseAsk]) -> Result<Vec<LeaseAnswer>> {
        self.write_async(async |tx| super::leases::lease(tx, asks).await)
    }

    fn spend_uses(&mut self, wanted: &[(&str, u64)], at: Timestamp) -> Result<Vec<Option<Spent>>> {
        let asked: Vec<&str> = wanted
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| storable(id))
            .collect();
        let found = self.write_async(async |tx| {
            // A lost decrement would grant a use twice: durable, as a new key.
            tx.batch_execute(DURABLE_COMMIT).await?;
            // Locked in `seq` order, so two spenders cannot deadlock; each
            // waits for the other's commit and then reads what it left.
            let rows = tx
                .query_typed(LOCK_REMAINING_USES, &[(&asked, Type::TEXT_ARRAY)])
                .await?;
            let mut left = UsesLeft::default();
            for row in &rows {
                left.keys
                    .insert(row.try_get(0)?, (limits_from_row(row, 2)?, row.try_get(1)?));
            }
            let owners: Vec<&str> = left
                .keys
                .values()
                .filter_map(|(_, owner)| owner.as_deref())
                .collect();
            if !owners.is_empty() {
                let rows = tx
                    .query_typed(LOCK_OWNER_USES, &[(&owners, Type::TEXT_ARRAY)])
                    .await?;
                for row in &rows {
                    left.owners
                        .insert(row.try_get(0)?, limits_from_row(row, 1)?);
                }
            }
            let answers = left.grant(wanted, at);
            // Each granted entry is one use of its key (a batch may hold
            // thousands of entries: counted by id, in first-seen order).
            let (mut used, mut counts): (Vec<&str>, Vec<i64>) = (Vec::new(), Vec::new());
            let mut at_index: HashMap<&str, usize> = HashMap::new();
            for ((id, _), spent) in wanted.iter().zip(&answers) {
                if !spent.is_some_and(|s| s.granted) {
                    continue;
                }
                let i = *at_index.entry(id).or_insert_with(|| {
                    used.push(*id);
                    counts.push(0);
                    used.len() - 1
                });
                counts[i] += 1;
            }
            // The uses left and last refill of each key and owner that granted any.
            let (mut limited, mut remaining, mut refilled) = (Vec::new(), Vec::new(), Vec::new());
            let (mut spent_owners, mut owner_remaining, mut owner_refilled) =
                (Vec::new(), Vec::new(), Vec::new());
            let mut owners_seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
            for id in &used {
                let (limits, owner) = &left.keys[*id];
                if let Some(r) = limits.remaining_uses {
                    limited.push(*id);
                    remaining.push(r);
                    refilled.push(limits.refill.map(|f| f.refilled_at));
                }
                if let Some(owner) = owner.as_deref()
                    && owners_seen.insert(owner)
                    && let Some(limits) = left.owners.get(owner)
                    && let Some(r) = limits.remaining_uses
                {
                    spent_owners.push(owner);
                    owner_remaining.push(r);
                    owner_refilled.push(limits.refill.map(|f| f.refilled_at));
                }
            }
            if !limited.is_empty() {
                tx.execute_typed(
                    UPDATE_REMAINING_USES,
                    &[
                        (&limited, Type::TEXT_ARRAY),
                        (&remaining, Type::INT8_ARRAY),
                        (&refilled, Type::INT8_ARRAY),
                    ],
                )
                .await?;
            }
            if !spent_owners.is_empty() {
                tx.execute_typed(
                    UPDATE_OWNER_USES,
                    &[
                        (&spent_owners, Type::TEXT_ARRAY),
                        (&owner_remaining, Type::INT8_ARRAY),
                        (&owner_refilled, Type::INT8_ARRAY),
                    ],
                )
                .await?;
            }
            if !used.is_empty() {
                tx.execute_typed(
                    RECORD_USES,
                    &[
                        (&used, Type::TEXT_ARRAY),
                        (&at, Type::INT8),
                        (&counts, Type::INT8_ARRAY),
                    ],
                )
                .await?;
            }
            Ok(answers)
        })?;
        Ok(found)
    }

    fn list_keys(
        &mut self,
        filter: &KeyFilter,
        each: &mut dyn FnMut(&KeyRecord) -> Result<()>,
    ) -> Result<()> {
        let shown = self.shown.clone();
        let status = filter.status.map(Status::as_str);
        let limit = filter.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let params: [&(dyn ToSql + Sync); 7] = [
            &filter.service,
            &status,
            &filter.now,
            &limit,
            &filter.expiring_by,
            &filter.unused_since,
            &filter.owner,
        ];
        let query = filter.order.sql(SELECT_KEYS_FILTERED, "$4");
        self.stream(&[(&query, &params)], &mut |_, row| {
            each(&key_from_row(row).map_err(|f| failure(&shown, f))?)
        })
    }

    fn export(&mut self, each: &mut dyn FnMut(Item<'_>) -> Result<()>) -> Result<()> {
        let shown = self.shown.clone();
        self.stream(
            &[
                (SELECT_ALL_OWNERS, &[]),
                (SELECT_ALL_KEYS, &[]),
                (SELECT_ALL_EVENTS, &[]),
            ],
            &mut |query, row| match query {
                0 => each(Item::Owner(
                    &owner_from_row(row).map_err(|f| failure(&shown, f))?,
                )),
                1 => each(Item::Key(
                    &key_from_row(row).map_err(|f| failure(&shown, f))?,
                )),
                _ => each(Item::Event(
                    &event_from_row(row).map_err(|f| failure(&shown, f))?,
                )),
            },
        )
    }

    fn import(&mut self, fill: &mut dyn FnMut(&mut dyn Importer) -> Result<()>) -> Result<Copied> {
        let shown = self.shown.clone();
        let fail = |e: tokio_postgres::Error| failure(&shown, e.into());
        let runtime = &self.runtime;
        let tx = runtime.block_on(self.client.transaction()).map_err(fail)?;
        let occupied: bool = runtime
            .block_on(async {
                // Nobody adds keys while the copy runs; readers go on. The
                // copied keys are durable once reported, as new ones are.
                tx.batch_execute(COUNT_CHANGE).await?;
                tx.batch_execute(LOCK_FOR_IMPORT).await?;
                tx.batch_execute(DURABLE_COMMIT).await?;
                tx.query_typed_one(SELECT_OCCUPIED, &[]).await
            })
            .map_err(fail)?
            .get(0);
        if occupied {
            return Err(crate::store::occupied(&shown));
        }
        let mut importer = BatchImporter {
            runtime,
            tx: &tx,
            shown: &shown,
            keys: KeyColumns::default(),
            used: Default::default(),
            events: EventColumns::default(),
            copied: Copied::default(),
        };
        fill(&mut importer)?;
        importer.flush()?;
        let copied = importer.copied;
        drop(importer);
        runtime.block_on(tx.commit()).map_err(fail)?;
        Ok(copied)
    }
}

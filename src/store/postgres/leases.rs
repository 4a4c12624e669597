//! `Store::lease` on PostgreSQL (docs/src/fleet-limits.md): the subjects'
//! rows locked in name order (so that two processes asking for the same
//! subjects cannot deadlock), read, decided by `rate::ledger::plan`, and
//! written back, a statement for each kind of change, in one durable
//! transaction. Timed by the server's clock: every host asks the same one.

use std::collections::HashMap;

use tokio_postgres::Transaction;
use tokio_postgres::types::{ToSql, Type};

use super::sql::DURABLE_COMMIT;
use super::{Fault, Pg};
use crate::rate::ledger::{self, Lease, LeaseAnswer, LeaseAsk, Subject};

const SERVER_CLOCK: &str = "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint";
const ENSURE_SUBJECTS: &str = "INSERT INTO rate_subjects (subject, clock) \
     SELECT s, 0 FROM unnest($1::text[]) AS s ON CONFLICT (subject) DO NOTHING";
const LOCK_SUBJECTS: &str = "SELECT subject, clock FROM rate_subjects \
     WHERE subject = ANY($1) ORDER BY subject FOR UPDATE";
const SELECT_LEASES: &str = "SELECT id, subject, granted_at, until_at, count FROM rate_leases \
     WHERE subject = ANY($1)";
const SET_CLOCKS: &str = "UPDATE rate_subjects AS r SET clock = u.clock \
     FROM unnest($1::text[], $2::bigint[]) AS u(subject, clock) WHERE r.subject = u.subject";
const DELETE_LEASES: &str = "DELETE FROM rate_leases WHERE id = ANY($1)";
const UPDATE_LEASES: &str = "UPDATE rate_leases AS l SET until_at = u.until_at, count = u.count \
     FROM unnest($1::bigint[], $2::bigint[], $3::int[]) AS u(id, until_at, count) WHERE l.id = u.id";
const INSERT_LEASES: &str = "INSERT INTO rate_leases (subject, granted_at, until_at, count) \
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::int[]) RETURNING id, subject";

/// `Store::lease` inside `tx`. Each subject is asked for at most once.
///
/// The statements of each step are sent together (pipelined, in order:
/// PostgreSQL runs them one after the other, so the leases are read after
/// the subjects are locked): a lease costs four round trips, not eleven,
/// which is most of its time on a busy host (docs/src/fleet-limits.md).
pub(super) async fn lease(tx: &Transaction<'_>, asks: &[LeaseAsk]) -> Pg<Vec<LeaseAnswer>> {
    let mut names: Vec<&str> = asks.iter().map(|a| a.subject.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let by_name = [(&names as &(dyn ToSql + Sync), Type::TEXT_ARRAY)];
    let (_, clock, _, locked, leases) = tokio::try_join!(
        // A lease the store forgot after a crash would be admitted from twice.
        tx.batch_execute(DURABLE_COMMIT),
        tx.query_one(SERVER_CLOCK, &[]),
        tx.execute_typed(ENSURE_SUBJECTS, &by_name),
        tx.query_typed(LOCK_SUBJECTS, &by_name),
        tx.query_typed(SELECT_LEASES, &by_name),
    )?;
    let clock: i64 = clock.try_get(0)?;
    let mut subjects: HashMap<String, Subject> = HashMap::new();
    for row in locked {
        let latest: i64 = row.try_get(1)?;
        let now = ledger::now(clock, Some(latest));
        subjects.insert(
            row.try_get(0)?,
            Subject {
                now,
                leases: Vec::new(),
            },
        );
    }
    for row in leases {
        let subject: String = row.try_get(1)?;
        let count: i32 = row.try_get(4)?;
        let lease = Lease {
            id: row.try_get(0)?,
            granted_at: row.try_get(2)?,
            until: row.try_get(3)?,
            count: u32::try_from(count).map_err(|_| Fault::Damaged)?,
        };
        subjects.entry(subject).or_default().leases.push(lease);
    }
    let plan = ledger::plan(asks, &subjects);
    let (names, clocks): (Vec<&str>, Vec<i64>) = subjects
        .iter()
        .map(|(name, s)| (name.as_str(), s.now))
        .unzip();
    let updated: Vec<i64> = plan.update.iter().map(|l| l.id).collect();
    let untils: Vec<i64> = plan.update.iter().map(|l| l.until).collect();
    let counts: Vec<i32> = plan.update.iter().map(|l| count(l.count)).collect();
    let (_, _, _, _, by_subject) = tokio::try_join!(
        async {
            tx.execute_typed(
                SET_CLOCKS,
                &[(&names, Type::TEXT_ARRAY), (&clocks, Type::INT8_ARRAY)],
            )
            .await
        },
        async {
            if plan.delete.is_empty() {
                return Ok(0);
            }
            tx.execute_typed(DELETE_LEASES, &[(&plan.delete, Type::INT8_ARRAY)])
                .await
        },
        async {
            if updated.is_empty() {
                return Ok(0);
            }
            tx.execute_typed(
                UPDATE_LEASES,
                &[
                    (&updated, Type::INT8_ARRAY),
                    (&untils, Type::INT8_ARRAY),
                    (&counts, Type::INT4_ARRAY),
                ],
            )
            .await
        },
        insert(tx, asks, &plan.pieces),
        // By subject: each is asked for once.
        insert(tx, asks, &plan.insert),
    )?;
    let mut ids = vec![None; asks.len()];
    for (i, _) in &plan.insert {
        ids[*i] = by_subject.get(&asks[*i].subject).copied();
    }
    Ok(plan.answers(ids))
}

/// Inserts `records`, each of the subject of the ask of its index; the
/// new ids by subject.
async fn insert(
    tx: &Transaction<'_>,
    asks: &[LeaseAsk],
    records: &[(usize, Lease)],
) -> Result<HashMap<String, i64>, tokio_postgres::Error> {
    if records.is_empty() {
        return Ok(HashMap::new());
    }
    let subjects: Vec<&str> = records
        .iter()
        .map(|(i, _)| asks[*i].subject.as_str())
        .collect();
    let granted: Vec<i64> = records.iter().map(|(_, l)| l.granted_at).collect();
    let untils: Vec<i64> = records.iter().map(|(_, l)| l.until).collect();
    let counts: Vec<i32> = records.iter().map(|(_, l)| count(l.count)).collect();
    let rows = tx
        .query_typed(
            INSERT_LEASES,
            &[
                (&subjects, Type::TEXT_ARRAY),
                (&granted, Type::INT8_ARRAY),
                (&untils, Type::INT8_ARRAY),
                (&counts, Type::INT4_ARRAY),
            ],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(1)?, r.try_get(0)?)))
        .collect()
}

/// A lease's count as the column holds it (a limit is at most 1,000,000).
fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

//! `Store::lease` on SQLite (docs/src/fleet-limits.md): the subjects' rows
//! read and written in one IMMEDIATE transaction, which every other writer
//! of the file waits for; `rate::ledger::plan` decides. Timed by the host's
//! clock, read from the kernel (`time::host_clock_ms`): every process of
//! a SQLite store runs on its host.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use crate::rate::ledger::{self, Lease, LeaseAnswer, LeaseAsk, Subject};

const SELECT_CLOCK: &str = "SELECT clock FROM rate_subjects WHERE subject = ?1";
const SET_CLOCK: &str = "INSERT INTO rate_subjects (subject, clock) VALUES (?1, ?2) \
     ON CONFLICT (subject) DO UPDATE SET clock = excluded.clock";
const SELECT_LEASES: &str =
    "SELECT id, granted_at, until_at, count FROM rate_leases WHERE subject = ?1";
const DELETE_LEASE: &str = "DELETE FROM rate_leases WHERE id = ?1";
const UPDATE_LEASE: &str = "UPDATE rate_leases SET until_at = ?2, count = ?3 WHERE id = ?1";
const INSERT_LEASE: &str =
    "INSERT INTO rate_leases (subject, granted_at, until_at, count) VALUES (?1, ?2, ?3, ?4)";

/// `Store::lease` inside `tx`, an IMMEDIATE transaction, at `clock_ms`.
pub(super) fn lease(
    tx: &Connection,
    asks: &[LeaseAsk],
    clock_ms: i64,
) -> rusqlite::Result<Vec<LeaseAnswer>> {
    let mut subjects: HashMap<String, Subject> = HashMap::new();
    for ask in asks {
        if subjects.contains_key(&ask.subject) {
            continue;
        }
        let latest: Option<i64> = tx
            .prepare_cached(SELECT_CLOCK)?
            .query_row([&ask.subject], |r| r.get(0))
            .optional()?;
        let now = ledger::now(clock_ms, latest);
        tx.prepare_cached(SET_CLOCK)?
            .execute(params![ask.subject, now])?;
        let leases = tx
            .prepare_cached(SELECT_LEASES)?
            .query_map([&ask.subject], |r| {
                Ok(Lease {
                    id: r.get(0)?,
                    granted_at: r.get(1)?,
                    until: r.get(2)?,
                    count: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<Lease>>>()?;
        subjects.insert(ask.subject.clone(), Subject { now, leases });
    }
    let plan = ledger::plan(asks, &subjects);
    for id in &plan.delete {
        tx.prepare_cached(DELETE_LEASE)?.execute([id])?;
    }
    for l in &plan.update {
        tx.prepare_cached(UPDATE_LEASE)?
            .execute(params![l.id, l.until, l.count])?;
    }
    let insert = |i: usize, l: &Lease| {
        tx.prepare_cached(INSERT_LEASE)?.execute(params![
            asks[i].subject,
            l.granted_at,
            l.until,
            l.count
        ])?;
        Ok::<_, rusqlite::Error>(tx.last_insert_rowid())
    };
    for (i, l) in &plan.pieces {
        insert(*i, l)?;
    }
    let mut ids = vec![None; asks.len()];
    for (i, l) in &plan.insert {
        ids[*i] = Some(insert(*i, l)?);
    }
    Ok(plan.answers(ids))
}

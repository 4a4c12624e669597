//! Rows to keysmith's records and back: what each column of a statement
//! in `sql` holds.

use rusqlite::{Connection, OptionalExtension, Row, Statement, params};

use super::sql::{ENSURE_OWNER, INSERT_EVENT, SAVE_OWNER, SELECT_KEY_BY_ID};
use crate::key_format::KeyHash;
use crate::model::{OwnerRecord, OwnerState};
use crate::store::{Credential, Event, KeyRecord, Limits, RateLimit};
use crate::{ip, refill};

pub(super) fn key_from_row(row: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        id: row.get(0)?,
        hash: KeyHash(row.get(1)?),
        prefix: row.get(2)?,
        name: row.get(3)?,
        description: row.get(4)?,
        service: row.get(5)?,
        disabled: row.get(6)?,
        created_at: row.get(7)?,
        expires_at: row.get(8)?,
        last_used_at: row.get(9)?,
        use_count: row.get(10)?,
        rotated_from: row.get(11)?,
        replaced_by: row.get(12)?,
        limits: limits_from_row(row, 14)?,
        owner: row.get(22)?,
        meta: row.get(23)?,
    })
}

/// The limits in the eight columns from `first` on: scopes, remaining
/// uses, rate limit and its window, the refill's schedule, amount and
/// last refill, the IP rules.
pub(super) fn limits_from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<Limits> {
    let limit: Option<u32> = row.get(first + 2)?;
    let per: Option<u32> = row.get(first + 3)?;
    Ok(Limits {
        scopes: Limits::scopes_from(row.get_ref(first)?.as_str_or_null()?),
        remaining_uses: row.get(first + 1)?,
        rate: limit
            .zip(per)
            .map(|(limit, per_seconds)| RateLimit { limit, per_seconds }),
        refill: refill::from_columns(
            row.get_ref(first + 4)?.as_str_or_null()?,
            row.get(first + 5)?,
            row.get(first + 6)?,
        ),
        allow_ip: ip::from_stored(row.get_ref(first + 7)?.as_str_or_null()?),
    })
}

/// Reads a row into `key`, reusing its strings' memory: a listing of a
/// million keys then allocates for the first row, not for every row.
pub(super) fn key_into(row: &Row<'_>, key: &mut KeyRecord) -> rusqlite::Result<()> {
    fn text(row: &Row<'_>, i: usize, into: &mut String) -> rusqlite::Result<()> {
        into.clear();
        into.push_str(row.get_ref(i)?.as_str()?);
        Ok(())
    }
    fn optional(row: &Row<'_>, i: usize, into: &mut Option<String>) -> rusqlite::Result<()> {
        match row.get_ref(i)?.as_str_or_null()? {
            None => *into = None,
            Some(value) => text_into(into.get_or_insert_with(String::new), value),
        }
        Ok(())
    }
    fn text_into(into: &mut String, value: &str) {
        into.clear();
        into.push_str(value);
    }
    text(row, 0, &mut key.id)?;
    key.hash = KeyHash(row.get(1)?);
    text(row, 2, &mut key.prefix)?;
    text(row, 3, &mut key.name)?;
    optional(row, 4, &mut key.description)?;
    optional(row, 5, &mut key.service)?;
    key.disabled = row.get(6)?;
    key.created_at = row.get(7)?;
    key.expires_at = row.get(8)?;
    key.last_used_at = row.get(9)?;
    key.use_count = row.get(10)?;
    optional(row, 11, &mut key.rotated_from)?;
    optional(row, 12, &mut key.replaced_by)?;
    key.limits = limits_from_row(row, 14)?;
    optional(row, 22, &mut key.owner)?;
    optional(row, 23, &mut key.meta)?;
    Ok(())
}

/// Reads a row into the record kept in `slot` (made at the first row),
/// reusing its memory row after row.
pub(super) fn key_into_slot<'k>(
    row: &Row<'_>,
    slot: &'k mut Option<KeyRecord>,
) -> rusqlite::Result<&'k mut KeyRecord> {
    match slot {
        Some(key) => {
            key_into(row, key)?;
            Ok(key)
        }
        None => Ok(slot.insert(key_from_row(row)?)),
    }
}

pub(super) fn insert_event(conn: &Connection, event: &Event) -> rusqlite::Result<()> {
    conn.prepare_cached(INSERT_EVENT)?
        .execute(params![
            event.at,
            event.action,
            event.key_id,
            event.actor,
            event.detail,
            event.owner
        ])
        .map(drop)
}

pub(super) fn select_key(conn: &Connection, id: &str) -> rusqlite::Result<Option<KeyRecord>> {
    conn.prepare_cached(SELECT_KEY_BY_ID)?
        .query_row([id], key_from_row)
        .optional()
}

pub(super) fn credential_from_row(row: &Row<'_>) -> rusqlite::Result<Credential> {
    Ok(Credential {
        id: row.get(0)?,
        hash: KeyHash(row.get(1)?),
        name: row.get(2)?,
        service: row.get(3)?,
        disabled: row.get(4)?,
        expires_at: row.get(5)?,
        limits: limits_from_row(row, 6)?,
        owner: row.get(14)?,
        meta: row.get(15)?,
        owner_state: match row.get::<_, Option<bool>>(16)? {
            None => None,
            Some(disabled) => Some(OwnerState {
                disabled,
                limits: limits_from_row(row, 17)?,
            }),
        },
    })
}

pub(super) fn insert_key_with(stmt: &mut Statement<'_>, key: &KeyRecord) -> rusqlite::Result<bool> {
    let (refill_every, refill_uses, refilled_at) = refill::columns(key.limits.refill);
    let inserted = stmt.execute(params![
        key.id,
        key.hash.0,
        key.prefix,
        key.name,
        key.description,
        key.service,
        key.disabled,
        key.created_at,
        key.expires_at,
        key.rotated_from,
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
        ip::stored(&key.limits.allow_ip),
    ])?;
    Ok(inserted == 1)
}

pub(super) fn event_from_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        at: row.get(0)?,
        action: row.get(1)?,
        key_id: row.get(2)?,
        actor: row.get(3)?,
        detail: row.get(4)?,
        owner: row.get(5)?,
    })
}

/// Makes the record of the key's owner, if it names one without a record.
pub(super) fn ensure_owner(conn: &Connection, key: &KeyRecord) -> rusqlite::Result<()> {
    if let Some(owner) = &key.owner {
        conn.prepare_cached(ENSURE_OWNER)?.execute([owner])?;
    }
    Ok(())
}

/// An owner as `sql::owner_columns` selects it.
pub(super) fn owner_from_row(row: &Row<'_>) -> rusqlite::Result<OwnerRecord> {
    Ok(OwnerRecord {
        id: row.get(0)?,
        disabled: row.get(1)?,
        created_at: row.get(2)?,
        limits: limits_from_row(row, 3)?,
        keys: row.get::<_, i64>(11)?.max(0) as u64,
    })
}

pub(super) fn save_owner(conn: &Connection, owner: &OwnerRecord) -> rusqlite::Result<()> {
    let (refill_every, refill_uses, refilled_at) = refill::columns(owner.limits.refill);
    conn.prepare_cached(SAVE_OWNER)?.execute(params![
        owner.id,
        owner.disabled,
        owner.created_at,
        owner.limits.remaining_uses,
        owner.limits.rate.map(|r| r.limit),
        owner.limits.rate.map(|r| r.per_seconds),
        refill_every,
        refill_uses,
        refilled_at,
        ip::stored(&owner.limits.allow_ip),
    ])?;
    Ok(())
}

/// SQLite reads a negative LIMIT as "no limit".
pub(super) fn sql_limit(limit: Option<u64>) -> i64 {
    limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX))
}

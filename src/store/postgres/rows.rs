//! Rows to keysmith's records: what each column of a statement in `sql`
//! holds. A value keysmith cannot have written is `Fault::Damaged`.

use tokio_postgres::Row;

use super::{Fault, Pg};
use crate::key_format::KeyHash;
use crate::model::{OwnerRecord, OwnerState};
use crate::store::{Credential, Event, KeyRecord, Limits, RateLimit};
use crate::{ip, refill};

pub(super) fn key_from_row(row: &Row) -> Pg<KeyRecord> {
    let hash: &[u8] = row.try_get(1)?;
    Ok(KeyRecord {
        id: row.try_get(0)?,
        hash: KeyHash(hash.try_into().map_err(|_| Fault::Damaged)?),
        prefix: row.try_get(2)?,
        name: row.try_get(3)?,
        description: row.try_get(4)?,
        service: row.try_get(5)?,
        disabled: row.try_get(6)?,
        created_at: row.try_get(7)?,
        expires_at: row.try_get(8)?,
        last_used_at: row.try_get(9)?,
        use_count: row.try_get(10)?,
        rotated_from: row.try_get(11)?,
        replaced_by: row.try_get(12)?,
        limits: limits_from_row(row, 14)?,
        owner: row.try_get(22)?,
        meta: row.try_get(23)?,
    })
}

/// The limits in the eight columns from `first` on: scopes, remaining
/// uses, rate limit and its window, the refill's schedule, amount and last
/// refill, the IP rules.
pub(super) fn limits_from_row(row: &Row, first: usize) -> Pg<Limits> {
    let limit: Option<i64> = row.try_get(first + 2)?;
    let per: Option<i64> = row.try_get(first + 3)?;
    let rate = match limit.zip(per) {
        None => None,
        Some((limit, per)) => Some(RateLimit {
            limit: u32::try_from(limit).map_err(|_| Fault::Damaged)?,
            per_seconds: u32::try_from(per).map_err(|_| Fault::Damaged)?,
        }),
    };
    Ok(Limits {
        scopes: Limits::scopes_from(row.try_get(first)?),
        remaining_uses: row.try_get(first + 1)?,
        rate,
        refill: refill::from_columns(
            row.try_get(first + 4)?,
            row.try_get(first + 5)?,
            row.try_get(first + 6)?,
        ),
        allow_ip: ip::from_stored(row.try_get(first + 7)?),
    })
}

pub(super) fn credential_from_row(row: &Row) -> Pg<Credential> {
    let hash: &[u8] = row.try_get(1)?;
    Ok(Credential {
        id: row.try_get(0)?,
        hash: KeyHash(hash.try_into().map_err(|_| Fault::Damaged)?),
        name: row.try_get(2)?,
        service: row.try_get(3)?,
        disabled: row.try_get(4)?,
        expires_at: row.try_get(5)?,
        limits: limits_from_row(row, 6)?,
        owner: row.try_get(14)?,
        meta: row.try_get(15)?,
        owner_state: match row.try_get::<_, Option<bool>>(16)? {
            None => None,
            Some(disabled) => Some(OwnerState {
                disabled,
                limits: limits_from_row(row, 17)?,
            }),
        },
    })
}

pub(super) fn event_from_row(row: &Row) -> Pg<Event> {
    Ok(Event {
        at: row.try_get(0)?,
        action: row.try_get(1)?,
        key_id: row.try_get(2)?,
        actor: row.try_get(3)?,
        detail: row.try_get(4)?,
        owner: row.try_get(5)?,
    })
}

/// An owner as `sql::owner_columns` selects it.
pub(super) fn owner_from_row(row: &Row) -> Pg<OwnerRecord> {
    let keys: i64 = row.try_get(11)?;
    Ok(OwnerRecord {
        id: row.try_get(0)?,
        disabled: row.try_get(1)?,
        created_at: row.try_get(2)?,
        limits: limits_from_row(row, 3)?,
        keys: u64::try_from(keys).map_err(|_| Fault::Damaged)?,
    })
}

/// A key's rate limit as its two columns.
pub(super) fn rate_columns(key: &KeyRecord) -> (Option<i64>, Option<i64>) {
    let rate = key.limits.rate;
    (
        rate.map(|r| i64::from(r.limit)),
        rate.map(|r| i64::from(r.per_seconds)),
    )
}

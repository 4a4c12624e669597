//! Many keys or events as column arrays, which `unnest` turns back into
//! rows: one statement sends thousands.

use tokio_postgres::types::ToSql;

use super::rows::rate_columns;
use crate::store::{Event, KeyRecord};

/// Columns of many keys, as the arrays `unnest` turns back into rows.
#[derive(Default)]
pub(super) struct KeyColumns {
    pub(super) id: Vec<String>,
    pub(super) hash: Vec<Vec<u8>>,
    pub(super) prefix: Vec<String>,
    pub(super) name: Vec<String>,
    pub(super) description: Vec<Option<String>>,
    pub(super) service: Vec<Option<String>>,
    pub(super) disabled: Vec<bool>,
    pub(super) created_at: Vec<i64>,
    pub(super) expires_at: Vec<Option<i64>>,
    pub(super) rotated_from: Vec<Option<String>>,
    pub(super) replaced_by: Vec<Option<String>>,
    pub(super) scopes: Vec<Option<String>>,
    pub(super) remaining_uses: Vec<Option<i64>>,
    pub(super) rate_limit: Vec<Option<i64>>,
    pub(super) rate_per: Vec<Option<i64>>,
    pub(super) owner: Vec<Option<String>>,
    pub(super) meta: Vec<Option<String>>,
    pub(super) refill: Vec<Option<String>>,
    pub(super) refill_uses: Vec<Option<i64>>,
    pub(super) refilled_at: Vec<Option<i64>>,
    pub(super) allow_ip: Vec<Option<String>>,
}

impl KeyColumns {
    pub(super) fn push(&mut self, key: &KeyRecord) {
        self.id.push(key.id.clone());
        self.hash.push(key.hash.0.to_vec());
        self.prefix.push(key.prefix.clone());
        self.name.push(key.name.clone());
        self.description.push(key.description.clone());
        self.service.push(key.service.clone());
        self.disabled.push(key.disabled);
        self.created_at.push(key.created_at);
        self.expires_at.push(key.expires_at);
        self.rotated_from.push(key.rotated_from.clone());
        self.replaced_by.push(key.replaced_by.clone());
        self.scopes.push(key.limits.scopes_text());
        self.remaining_uses.push(key.limits.remaining_uses);
        let (limit, per) = rate_columns(key);
        self.rate_limit.push(limit);
        self.rate_per.push(per);
        self.owner.push(key.owner.clone());
        self.meta.push(key.meta.clone());
        let (every, uses, at) = crate::refill::columns(key.limits.refill);
        self.refill.push(every);
        self.refill_uses.push(uses);
        self.refilled_at.push(at);
        self.allow_ip.push(crate::ip::stored(&key.limits.allow_ip));
    }

    pub(super) fn len(&self) -> usize {
        self.id.len()
    }

    pub(super) fn params(&self) -> [&(dyn ToSql + Sync); 21] {
        [
            &self.id,
            &self.hash,
            &self.prefix,
            &self.name,
            &self.description,
            &self.service,
            &self.disabled,
            &self.created_at,
            &self.expires_at,
            &self.rotated_from,
            &self.replaced_by,
            &self.scopes,
            &self.remaining_uses,
            &self.rate_limit,
            &self.rate_per,
            &self.owner,
            &self.meta,
            &self.refill,
            &self.refill_uses,
            &self.refilled_at,
            &self.allow_ip,
        ]
    }
}

#[derive(Default)]
pub(super) struct EventColumns {
    pub(super) at: Vec<i64>,
    pub(super) action: Vec<String>,
    pub(super) key_id: Vec<Option<String>>,
    pub(super) actor: Vec<String>,
    pub(super) detail: Vec<Option<String>>,
    pub(super) owner: Vec<Option<String>>,
}

impl EventColumns {
    pub(super) fn push(&mut self, event: &Event) {
        self.at.push(event.at);
        self.action.push(event.action.clone());
        self.key_id.push(event.key_id.clone());
        self.actor.push(event.actor.clone());
        self.detail.push(event.detail.clone());
        self.owner.push(event.owner.clone());
    }

    pub(super) fn len(&self) -> usize {
        self.at.len()
    }

    pub(super) fn params(&self) -> [&(dyn ToSql + Sync); 6] {
        [
            &self.at,
            &self.action,
            &self.key_id,
            &self.actor,
            &self.detail,
            &self.owner,
        ]
    }
}

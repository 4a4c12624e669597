//! Every change to stored keys, written once over `store::Transaction`:
//! create, switch on or off, edit, rotate, delete, and taking back keys
//! nobody received. The CLI's commands and applications call these; each
//! backend only says how a step is done in its SQL.

use std::collections::HashSet;

use zeroize::Zeroizing;

use crate::error::{Error, Result, StoreFault};
use crate::key_format::{self, MintedKey};
use crate::model::NewKey;
use crate::model::{Event, KeyEdit, KeyRecord, Retire, Timestamp};
use crate::store::{self, KeyInserter, Store, Transaction};

/// How often a colliding id is drawn again before the store is suspected.
/// (Ids are 71 random bits: even one collision is a chance of about one in
/// 10^21 per key.)
const MINT_ATTEMPTS: usize = 8;

mod owners;
pub use owners::{OwnerDeletion, delete_owner, set_owner, set_owner_disabled};

/// Keys handed to the store at a time by `create_many`.
const BATCH: usize = 2_000;

fn id_space_exhausted() -> Error {
    Error::store(
        StoreFault::Damaged,
        "could not find a free key id after 8 tries; the store may be damaged",
    )
}

/// Who made a change and when: what every event records.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub actor: &'a str,
    pub at: Timestamp,
}

impl Change<'_> {
    /// An event of the key with this id, naming no owner.
    pub fn event(&self, action: &str, key_id: &str, detail: Option<String>) -> Event {
        Event {
            at: self.at,
            action: action.into(),
            key_id: Some(key_id.into()),
            actor: self.actor.into(),
            detail,
            owner: None,
        }
    }

    /// An owner's own event: it names the owner and no key.
    pub fn owner_event(&self, action: &str, owner: &str, detail: Option<String>) -> Event {
        Event {
            at: self.at,
            action: action.into(),
            key_id: None,
            actor: self.actor.into(),
            detail,
            owner: Some(owner.into()),
        }
    }

    /// An event of `key`, naming its owner (`history --owner`).
    pub fn event_of(&self, action: &str, key: &KeyRecord, detail: Option<String>) -> Event {
        Event {
            owner: key.owner.clone(),
            ..self.event(action, &key.id, detail)
        }
    }
}

/// The record that stores `minted`, a key made for `spec`.
pub fn record_for(spec: &NewKey, minted: &MintedKey, now: Timestamp) -> KeyRecord {
    KeyRecord {
        id: minted.id.clone(),
        hash: minted.hash,
        prefix: spec.prefix.clone(),
        name: spec.name.clone(),
        description: spec.description.clone(),
        service: spec.service.clone(),
        disabled: false,
        created_at: now,
        expires_at: spec.expires_in.map(|secs| now + secs),
        last_used_at: None,
        use_count: 0,
        rotated_from: None,
        replaced_by: None,
        limits: spec.limits.clone(),
        owner: spec.owner.clone(),
        meta: spec.meta.clone(),
    }
}

/// Mints a key for `spec` and adds it inside `tx`, drawing another id in
/// the astronomically unlikely case that one is taken.
fn insert_new(
    tx: &mut dyn Transaction,
    spec: &NewKey,
    now: Timestamp,
    rotated_from: Option<&str>,
) -> Result<(MintedKey, KeyRecord)> {
    for _ in 0..MINT_ATTEMPTS {
        let minted = key_format::mint(&spec.prefix);
        let mut record = record_for(spec, &minted, now);
        record.rotated_from = rotated_from.map(str::to_owned);
        if tx.insert_key(&record)? {
            return Ok((minted, record));
        }
    }
    Err(id_space_exhausted())
}

/// Creates one key: mints it, and commits its hash durably with its
/// `create` event. The full key is in the returned `MintedKey`, and nowhere
/// else: show it once.
pub fn create(
    store: &mut dyn Store,
    spec: &NewKey,
    change: Change<'_>,
) -> Result<(MintedKey, KeyRecord)> {
    store::transaction(store, |tx| {
        let (minted, record) = insert_new(tx, spec, change.at, None)?;
        tx.append_event(&change.event_of("create", &record, None))?;
        Ok((minted, record))
    })
}

/// Creates many keys in one transaction, all or nothing: `next` yields the
/// checked specs (it is called inside the transaction, so it must not wait
/// on anything slow), and once the commit is durable `committed` receives
/// each key with its record. Memory stays bounded however many there are:
/// the secrets are drawn from one random seed by id, and drawn again for
/// the rows read back. Returns how many keys were created.
pub fn create_many(
    store: &mut dyn Store,
    next: &mut dyn FnMut() -> Result<Option<NewKey>>,
    change: Change<'_>,
    committed: &mut dyn FnMut(&KeyRecord, &MintedKey) -> Result<()>,
) -> Result<u64> {
    let seed = Zeroizing::new(rand::random::<[u8; 32]>());
    let mint = |prefix: &str, ids: &mut HashSet<String>| loop {
        // Distinct within a batch: the store answers only for stored ids.
        let id = key_format::random_id();
        if ids.insert(id.clone()) {
            return key_format::assemble(
                prefix,
                id.clone(),
                &key_format::derived_secret(&seed, &id),
            );
        }
    };
    let mut fill = |inserter: &mut dyn KeyInserter| -> Result<()> {
        let mut records = Vec::with_capacity(BATCH);
        let mut events = Vec::with_capacity(BATCH);
        let mut ids = HashSet::with_capacity(BATCH);
        loop {
            records.clear();
            events.clear();
            ids.clear();
            while records.len() < BATCH {
                let Some(spec) = next()? else { break };
                let minted = mint(&spec.prefix, &mut ids);
                let record = record_for(&spec, &minted, change.at);
                events.push(change.event_of("create", &record, None));
                records.push(record);
            }
            if records.is_empty() {
                return Ok(());
            }
            let mut taken = inserter.insert(&records, &events)?;
            for _ in 1..MINT_ATTEMPTS {
                if taken.is_empty() {
                    break;
                }
                // The same keys with new ids (and so new secrets and hashes).
                let mut again = Vec::with_capacity(taken.len());
                let mut again_events = Vec::with_capacity(taken.len());
                for &i in &taken {
                    let minted = mint(&records[i].prefix, &mut ids);
                    let mut record = records[i].clone();
                    record.id = minted.id.clone();
                    record.hash = minted.hash;
                    again_events.push(change.event_of("create", &record, None));
                    again.push(record);
                }
                let still = inserter.insert(&again, &again_events)?;
                records = again;
                taken = still;
            }
            if !taken.is_empty() {
                return Err(id_space_exhausted());
            }
            records.clear();
        }
    };
    let mut shown = |record: &KeyRecord| -> Result<()> {
        let secret = key_format::derived_secret(&seed, &record.id);
        let minted = key_format::assemble(&record.prefix, record.id.clone(), &secret);
        if !minted.hash.matches(&record.hash) {
            // Only a bug could get here; never show a key that is not stored.
            return Err(Error::store(
                StoreFault::Damaged,
                "internal error: a created key did not match the store; no more keys are shown",
            ));
        }
        committed(record, &minted)
    };
    store.insert_batch(&mut fill, &mut shown)
}

/// A key as a change left it, and whether the change altered anything.
#[derive(Debug, Clone)]
pub struct Changed {
    pub key: KeyRecord,
    pub changed: bool,
}

/// Switches a key off (or on); doing it twice records nothing the second
/// time. `None` when there is no such key.
pub fn set_disabled(
    store: &mut dyn Store,
    id: &str,
    disabled: bool,
    change: Change<'_>,
) -> Result<Option<Changed>> {
    store::transaction(store, |tx| {
        let Some(mut key) = tx.lock_key(id)? else {
            return Ok(None);
        };
        let changed = key.disabled != disabled;
        if changed {
            key.disabled = disabled;
            tx.save_key(&key)?;
            let action = if disabled { "disable" } else { "enable" };
            tx.append_event(&change.event_of(action, &key, None))?;
        }
        Ok(Some(Changed { key, changed }))
    })
}

/// Applies `edit` to a key and records which fields it changed (nothing,
/// when it changes nothing). Returns the key afterwards and those fields.
pub fn edit(
    store: &mut dyn Store,
    id: &str,
    edit: &KeyEdit,
    change: Change<'_>,
) -> Result<Option<(Changed, Vec<&'static str>)>> {
    store::transaction(store, |tx| {
        let Some(before) = tx.lock_key(id)? else {
            return Ok(None);
        };
        let fields = edit.changed_fields(&before);
        let key = edit.applied_to(&before);
        if !fields.is_empty() {
            tx.save_key(&key)?;
            // A key given to another owner, or to none, is in the history
            // of the owner it went to, else of the one it left.
            let mut event = change.event_of("edit", &key, Some(fields.join(", ")));
            event.owner = key.owner.clone().or_else(|| before.owner.clone());
            tx.append_event(&event)?;
        }
        let changed = !fields.is_empty();
        Ok(Some((Changed { key, changed }, fields)))
    })
}

/// What `rotate` did.
#[derive(Debug)]
pub enum Rotation {
    Rotated(Box<Rotated>),
    NoSuchKey,
    /// The key already has this replacement; nothing changed.
    AlreadyReplaced(String),
}

/// A rotation done: the new key (shown once), and the old key as it was
/// just before and as it is now.
#[derive(Debug)]
pub struct Rotated {
    pub minted: MintedKey,
    pub new: KeyRecord,
    pub before: KeyRecord,
    pub retired: KeyRecord,
}

/// Replaces a key with a new one of the same name, description, service,
/// prefix, scopes and rate limit, and retires the old one as `retire` says,
/// in one durable transaction; both record the link and a `rotate` event
/// naming the other. The old key's remaining uses move to the new key (the
/// old one keeps none: a rotation never doubles a key's budget). A key that
/// already has a replacement is not rotated again.
pub fn rotate(
    store: &mut dyn Store,
    old_id: &str,
    retire: Retire,
    change: Change<'_>,
) -> Result<Rotation> {
    store::transaction(store, |tx| {
        let Some(before) = tx.lock_key(old_id)? else {
            return Ok(Rotation::NoSuchKey);
        };
        if let Some(replacement) = &before.replaced_by {
            return Ok(Rotation::AlreadyReplaced(replacement.clone()));
        }
        // The new key takes the uses as a verification now would see them
        // (a refill due counted in), and keeps the schedule.
        let mut limits = before.limits.clone();
        limits.refill_due(change.at);
        let spec = NewKey {
            name: before.name.clone(),
            description: before.description.clone(),
            service: before.service.clone(),
            prefix: before.prefix.clone(),
            expires_in: None,
            limits,
            owner: before.owner.clone(),
            meta: before.meta.clone(),
        };
        let (minted, new) = insert_new(tx, &spec, change.at, Some(old_id))?;
        let mut retired = before.clone();
        retired.retire(retire, &new.id);
        if retired.limits.remaining_uses.is_some() {
            // Its uses moved; its refill goes too, or a key in its grace
            // time would be given uses again.
            retired.limits.remaining_uses = Some(0);
            retired.limits.refill = None;
        }
        tx.save_key(&retired)?;
        tx.append_event(&change.event_of("rotate", &retired, Some(new.id.clone())))?;
        tx.append_event(&change.event_of("rotate", &new, Some(old_id.to_owned())))?;
        Ok(Rotation::Rotated(Box::new(Rotated {
            minted,
            new,
            before,
            retired,
        })))
    })
}

/// Removes a key for good and records it; its history stays. Returns the
/// key as it was, or `None` when there is no such key.
pub fn delete(store: &mut dyn Store, id: &str, change: Change<'_>) -> Result<Option<KeyRecord>> {
    store::transaction(store, |tx| {
        let Some(key) = tx.lock_key(id)? else {
            return Ok(None);
        };
        tx.append_event(&change.event_of("delete", &key, None))?;
        tx.delete_key(id)?;
        Ok(Some(key))
    })
}

/// Takes back keys that nobody received because writing them out failed
/// (docs/src/security.md), in one transaction: each key of `ids` is removed with an
/// `undo` event; for a rotation, `restore` is the old key as it was before
/// it, and gets back its `disabled`, `expires_at` and `replaced_by`.
/// Returns how many keys were removed.
pub fn take_back(
    store: &mut dyn Store,
    ids: &[&str],
    restore: Option<&KeyRecord>,
    change: Change<'_>,
) -> Result<u64> {
    store::transaction(store, |tx| {
        let mut removed = 0;
        for id in ids {
            let Some(key) = tx.lock_key(id)? else {
                continue;
            };
            let detail = "not delivered: writing it out failed".to_owned();
            tx.append_event(&change.event_of("undo", &key, Some(detail)))?;
            tx.delete_key(id)?;
            removed += 1;
        }
        if let Some(old) = restore
            && let Some(mut current) = tx.lock_key(&old.id)?
        {
            current.disabled = old.disabled;
            current.expires_at = old.expires_at;
            current.replaced_by = old.replaced_by.clone();
            current.limits.remaining_uses = old.limits.remaining_uses;
            current.limits.refill = old.limits.refill;
            tx.save_key(&current)?;
            let detail = match ids {
                [new] => format!("rotation to {new} undone: the new key was not delivered"),
                _ => "rotation undone: the new key was not delivered".to_owned(),
            };
            tx.append_event(&change.event_of("undo", &current, Some(detail)))?;
        }
        Ok(removed)
    })
}

//! Every change to an owner's record (docs/src/owners.md), written once over
//! `store::Transaction` as the changes to keys are. An owner's own events
//! name it and no key.

use super::Change;
use crate::error::Result;
use crate::model::{OwnerEdit, OwnerRecord};
use crate::store::{self, Store};

/// Sets an owner's limits, making its record when it has none (then it is
/// enabled). Returns the owner afterwards and the fields that changed
/// (nothing is recorded when nothing changed).
pub fn set_owner(
    store: &mut dyn Store,
    id: &str,
    edit: &OwnerEdit,
    change: Change<'_>,
) -> Result<(OwnerRecord, Vec<&'static str>)> {
    store::transaction(store, |tx| {
        let (before, made) = match tx.lock_owner(id)? {
            Some(owner) => (owner, false),
            None => (OwnerRecord::new(id, change.at), true),
        };
        let fields = edit.changed_fields(&before);
        let after = edit.applied_to(&before);
        if made || !fields.is_empty() {
            tx.save_owner(&after)?;
        }
        if !fields.is_empty() {
            tx.append_event(&change.owner_event("edit", id, Some(fields.join(", "))))?;
        }
        Ok((after, fields))
    })
}

/// Switches an owner off (or on): every key of it is refused while it is
/// off, without a change to any key's own status. Doing it twice records
/// nothing the second time. `None` when there is no such owner; the bool
/// says whether anything changed.
pub fn set_owner_disabled(
    store: &mut dyn Store,
    id: &str,
    disabled: bool,
    change: Change<'_>,
) -> Result<Option<(OwnerRecord, bool)>> {
    store::transaction(store, |tx| {
        let Some(mut owner) = tx.lock_owner(id)? else {
            return Ok(None);
        };
        let changed = owner.disabled != disabled;
        if changed {
            owner.disabled = disabled;
            tx.save_owner(&owner)?;
            let action = if disabled { "disable" } else { "enable" };
            tx.append_event(&change.owner_event(action, id, None))?;
        }
        Ok(Some((owner, changed)))
    })
}

/// What `delete_owner` did.
#[derive(Debug)]
pub enum OwnerDeletion {
    NoSuchOwner,
    /// Refused: the owner still has this many keys.
    HasKeys(u64),
    Deleted(OwnerRecord),
}

/// Removes an owner's record and records it; its history stays. An owner
/// with keys is not removed: its keys would keep naming it.
pub fn delete_owner(store: &mut dyn Store, id: &str, change: Change<'_>) -> Result<OwnerDeletion> {
    store::transaction(store, |tx| {
        let Some(owner) = tx.lock_owner(id)? else {
            return Ok(OwnerDeletion::NoSuchOwner);
        };
        if owner.keys > 0 {
            return Ok(OwnerDeletion::HasKeys(owner.keys));
        }
        tx.append_event(&change.owner_event("delete", id, None))?;
        tx.delete_owner(id)?;
        Ok(OwnerDeletion::Deleted(owner))
    })
}

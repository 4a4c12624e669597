//! keysmith's nouns: a stored key, what verification reads of one, an event
//! of the history, and the changes a key can undergo. Plain data, no I/O;
//! the store keeps them, the operations in `keys` change them.

use crate::key::KeyHash;

/// Seconds since the Unix epoch, UTC.
pub type Timestamp = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Enabled,
    Disabled,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Enabled => "enabled",
            Status::Disabled => "disabled",
            Status::Expired => "expired",
        }
    }

    /// `disabled` when switched off, else `expired` from the instant
    /// `expires_at` is reached, else `enabled` (SPEC §5).
    pub fn of(disabled: bool, expires_at: Option<Timestamp>, now: Timestamp) -> Status {
        if disabled {
            Status::Disabled
        } else if expires_at.is_some_and(|at| now >= at) {
            Status::Expired
        } else {
            Status::Enabled
        }
    }
}

/// A stored key: everything but the secret, which is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: String,
    pub hash: KeyHash,
    pub prefix: String,
    pub name: String,
    pub description: Option<String>,
    pub service: Option<String>,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub use_count: i64,
    pub rotated_from: Option<String>,
    pub replaced_by: Option<String>,
}

impl KeyRecord {
    pub fn status(&self, now: Timestamp) -> Status {
        Status::of(self.disabled, self.expires_at, now)
    }

    pub fn masked(&self) -> String {
        crate::key::masked(&self.prefix, &self.id)
    }

    /// Links this key to its replacement and retires it as `retire` says.
    pub fn retire(&mut self, retire: Retire, replacement: &str) {
        match retire {
            Retire::Now => self.disabled = true,
            Retire::At(at) => self.expires_at = Some(self.expires_at.map_or(at, |e| e.min(at))),
        }
        self.replaced_by = Some(replacement.to_owned());
    }
}

/// What verification reads of a stored key: enough to judge a presented
/// key and to name it, and nothing it does not need (no uses, no links).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: String,
    pub hash: KeyHash,
    pub name: String,
    pub service: Option<String>,
    pub disabled: bool,
    pub expires_at: Option<Timestamp>,
}

impl Credential {
    pub fn status(&self, now: Timestamp) -> Status {
        Status::of(self.disabled, self.expires_at, now)
    }
}

/// One entry of a store's history: what happened, when, to which key, by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: Timestamp,
    pub action: String,
    pub key_id: String,
    pub actor: String,
    pub detail: Option<String>,
}

/// The fields `edit` may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyEdit {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub service: Option<String>,
    pub expires_at: Option<Option<Timestamp>>,
}

impl KeyEdit {
    /// The key as it is after this edit.
    pub fn applied_to(&self, before: &KeyRecord) -> KeyRecord {
        let mut after = before.clone();
        if let Some(name) = &self.name {
            after.name = name.clone();
        }
        if let Some(description) = &self.description {
            after.description = description.clone();
        }
        if let Some(service) = &self.service {
            after.service = Some(service.clone());
        }
        if let Some(expires_at) = self.expires_at {
            after.expires_at = expires_at;
        }
        after
    }

    /// The names of the fields this edit changes in `before`, as the
    /// history records them.
    pub fn changed_fields(&self, before: &KeyRecord) -> Vec<&'static str> {
        let after = self.applied_to(before);
        [
            ("name", after.name != before.name),
            ("description", after.description != before.description),
            ("service", after.service != before.service),
            ("expires_at", after.expires_at != before.expires_at),
        ]
        .into_iter()
        .filter_map(|(field, changed)| changed.then_some(field))
        .collect()
    }
}

/// How a rotated key is retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retire {
    /// Disabled in the same transaction that creates its replacement.
    Now,
    /// Left valid until this instant (or its own earlier expiry).
    At(Timestamp),
}

//! keysmith's nouns: a stored key, what verification reads of one, an event
//! of the history, and the changes a key can undergo. Plain data, no I/O;
//! the store keeps them, the operations in `lifecycle` change them.

use crate::key_format::KeyHash;
pub use crate::refill::{Refill, RefillEvery};

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
    /// `expires_at` is reached, else `enabled` (docs/src/commands/list.md).
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
    pub limits: Limits,
    /// The application's id of the customer the key belongs to
    /// (`input::Owner`; docs/src/owners.md).
    pub owner: Option<String>,
    /// A JSON object the application keeps with the key, compact
    /// (`input::Meta`), returned with VALID.
    pub meta: Option<String>,
}

/// What a key may do (docs/src/limits.md): its scopes, the VALID verifications it has
/// left and its rate limit. The default, a key without limits, may do
/// everything, as every key could before limits existed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Granted scopes, each `resource:action` or `resource:*`; empty: none.
    pub scopes: Vec<String>,
    /// VALID verifications left; `None`: unlimited.
    pub remaining_uses: Option<i64>,
    /// At most this many VALID answers per window, in each `serve` process.
    pub rate: Option<RateLimit>,
    /// When the uses left return to an amount (with `remaining_uses` only).
    pub refill: Option<Refill>,
    /// The client addresses it may be used from; empty: any (docs/src/owners.md).
    pub allow_ip: Vec<crate::ip::IpRule>,
}

/// The scopes of root keys, the keys of keysmith's own admin API
/// (docs/src/limits.md): the `keysmith:` namespace is theirs alone.
pub const ROOT_SCOPES: &[&str] = &[
    "keysmith:keys:create",
    "keysmith:keys:read",
    "keysmith:keys:write",
    "keysmith:owners:write",
    "keysmith:usage:read",
    "keysmith:*",
];

impl Limits {
    /// Whether these are a root key's: root scopes only. Such a key is
    /// never VALID for a verification (docs/src/limits.md).
    pub fn is_root(&self) -> bool {
        !self.scopes.is_empty()
            && self
                .scopes
                .iter()
                .all(|s| ROOT_SCOPES.contains(&s.as_str()))
    }

    /// The uses left a verification at `at` sees (`None`: unlimited): the
    /// refill's amount when a period began since the last refill, without
    /// writing it (docs/src/owners.md).
    pub fn uses_left_at(&self, at: Timestamp) -> Option<i64> {
        match self.refill {
            Some(refill) if refill.is_due(at) => Some(refill.uses),
            _ => self.remaining_uses,
        }
    }

    /// Applies a refill due at `at`, as a verification that spends writes it.
    pub fn refill_due(&mut self, at: Timestamp) {
        if let Some(refill) = self.refill.as_mut()
            && refill.is_due(at)
        {
            self.remaining_uses = Some(refill.uses);
            refill.refilled_at = refill.period_start(at);
        }
    }

    /// An edit of the uses and the refill (`edit`, `owner set`): new uses
    /// set both what is left and a refill's amount; unlimited uses end any
    /// refill.
    pub fn edit_uses(&mut self, uses: Option<Option<i64>>, refill: Option<Option<Refill>>) {
        if let Some(refill) = refill {
            self.refill = refill;
        }
        if let Some(uses) = uses {
            self.remaining_uses = uses;
            match (uses, self.refill.as_mut()) {
                (None, _) => self.refill = None,
                (Some(n), Some(refill)) => refill.uses = n,
                (Some(_), None) => {}
            }
        }
    }

    /// The refill's schedule and amount, what an edit compares.
    pub fn refill_schedule(&self) -> Option<(RefillEvery, i64)> {
        self.refill.map(|r| (r.every, r.uses))
    }

    /// When the uses left next return to their amount, if they ever do.
    pub fn next_refill(&self, at: Timestamp) -> Option<Timestamp> {
        self.refill.map(|r| r.next_at(at))
    }

    /// Whether every scope in `required` is granted (see `scope_grants`).
    pub fn grants_all(&self, required: &[String]) -> bool {
        required
            .iter()
            .all(|want| self.scopes.iter().any(|have| scope_grants(have, want)))
    }

    /// The scopes as stored: space-separated (no scope holds a space), or
    /// `None` for none.
    pub fn scopes_text(&self) -> Option<String> {
        (!self.scopes.is_empty()).then(|| self.scopes.join(" "))
    }

    /// The scopes from their stored text.
    pub fn scopes_from(text: Option<&str>) -> Vec<String> {
        text.map_or_else(Vec::new, |t| {
            t.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }
}

/// Whether the granted scope `have` covers the required `want`: the same
/// scope, or a wildcard `resource:*` covering every scope that starts with
/// `resource:` (wildcards included: `sms:*` covers `sms:eu:*`).
pub fn scope_grants(have: &str, want: &str) -> bool {
    match have.strip_suffix('*') {
        Some(base) if base.ends_with(':') => want.starts_with(base),
        _ => have == want,
    }
}

/// A key to create: its fields, checked against the input rules
/// (`crate::input`), before it is minted.
pub struct NewKey {
    pub name: String,
    pub description: Option<String>,
    pub service: Option<String>,
    pub prefix: String,
    pub expires_in: Option<i64>,
    /// Its scopes, granted uses and rate limit.
    pub limits: Limits,
    pub owner: Option<String>,
    pub meta: Option<String>,
}

/// A sliding-window rate limit: `limit` VALID answers in any `per_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u32,
    pub per_seconds: u32,
}

impl RateLimit {
    /// As `--rate` takes it: `100/1m`, the window in its largest whole unit.
    pub fn display(self) -> String {
        let per = self.per_seconds;
        let window = [(86_400, "d"), (3_600, "h"), (60, "m")]
            .into_iter()
            .find(|(unit, _)| per.is_multiple_of(*unit))
            .map_or(format!("{per}s"), |(unit, name)| {
                format!("{}{name}", per / unit)
            });
        format!("{}/{window}", self.limit)
    }
}

impl KeyRecord {
    pub fn status(&self, now: Timestamp) -> Status {
        Status::of(self.disabled, self.expires_at, now)
    }

    pub fn masked(&self) -> String {
        crate::key_format::masked(&self.prefix, &self.id)
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

/// An owner (docs/src/owners.md): the application's customer that keys
/// belong to. Its record is made with the first key that names it; its
/// status and limits hold for all its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRecord {
    pub id: String,
    pub disabled: bool,
    pub created_at: Timestamp,
    /// Uses and a rate limit shared by all its keys (an owner has no scopes).
    pub limits: Limits,
    /// How many keys it has (read with it, not stored).
    pub keys: u64,
}

impl OwnerRecord {
    /// A new owner, enabled and without limits.
    pub fn new(id: &str, now: Timestamp) -> Self {
        OwnerRecord {
            id: id.to_owned(),
            disabled: false,
            created_at: now,
            limits: Limits::default(),
            keys: 0,
        }
    }

    pub fn status(&self) -> Status {
        Status::of(self.disabled, None, 0)
    }
}

/// What verification reads of a key's owner: its status and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerState {
    pub disabled: bool,
    pub limits: Limits,
}

/// The limits `owner set` may change; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerEdit {
    pub remaining_uses: Option<Option<i64>>,
    pub rate: Option<Option<RateLimit>>,
    pub refill: Option<Option<Refill>>,
    /// `Some(vec![])`: `--no-allow-ip`.
    pub allow_ip: Option<Vec<crate::ip::IpRule>>,
}

impl OwnerEdit {
    /// The owner as it is after this edit.
    pub fn applied_to(&self, before: &OwnerRecord) -> OwnerRecord {
        let mut after = before.clone();
        after.limits.edit_uses(self.remaining_uses, self.refill);
        if let Some(rate) = self.rate {
            after.limits.rate = rate;
        }
        if let Some(rules) = &self.allow_ip {
            after.limits.allow_ip = rules.clone();
        }
        after
    }

    /// What this edit changes in `before`, in words, as the history records them.
    pub fn changed_fields(&self, before: &OwnerRecord) -> Vec<&'static str> {
        let after = self.applied_to(before);
        [
            (
                "uses left",
                after.limits.remaining_uses != before.limits.remaining_uses,
            ),
            ("rate limit", after.limits.rate != before.limits.rate),
            (
                "refill",
                after.limits.refill_schedule() != before.limits.refill_schedule(),
            ),
            (
                "allowed IPs",
                after.limits.allow_ip != before.limits.allow_ip,
            ),
        ]
        .into_iter()
        .filter_map(|(field, changed)| changed.then_some(field))
        .collect()
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
    pub limits: Limits,
    /// Returned with VALID only (docs/src/owners.md).
    pub owner: Option<String>,
    pub meta: Option<String>,
    /// The owner's status and limits, when the key has an owner.
    pub owner_state: Option<OwnerState>,
}

impl Credential {
    pub fn status(&self, now: Timestamp) -> Status {
        Status::of(self.disabled, self.expires_at, now)
    }

    /// Whether a VALID answer spends a use: the key, or its owner, has a
    /// limit of uses.
    pub fn has_limited_uses(&self) -> bool {
        self.limits.remaining_uses.is_some() || self.owner_uses().is_some()
    }

    /// The uses its owner has left; `None`: no owner, or one without a limit.
    pub fn owner_uses(&self) -> Option<i64> {
        self.owner_state
            .as_ref()
            .and_then(|o| o.limits.remaining_uses)
    }

    /// The uses of the key and of its owner as a verification at `at` sees
    /// them: a refill due is counted in (`Limits::uses_left_at`), not written.
    pub fn refilled_view(&mut self, at: Timestamp) {
        self.limits.remaining_uses = self.limits.uses_left_at(at);
        if let Some(owner) = self.owner_state.as_mut() {
            owner.limits.remaining_uses = owner.limits.uses_left_at(at);
        }
    }
}

/// The actions events record (`undo`: a key that could not be delivered was
/// taken back). An owner's own events are `enable`, `disable`, `edit` and
/// `delete` with no key.
pub const ACTIONS: [&str; 7] = [
    "create", "enable", "disable", "edit", "rotate", "delete", "undo",
];

/// One entry of a store's history: what happened, when, to which key (or
/// owner), by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: Timestamp,
    pub action: String,
    /// The key; `None` for an owner's own event (`owner disable`...).
    pub key_id: Option<String>,
    pub actor: String,
    pub detail: Option<String>,
    /// The owner of the key when it happened (`history --owner`).
    pub owner: Option<String>,
}

/// The fields `edit` may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyEdit {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    /// `Some(None)` takes the key out of any service.
    pub service: Option<Option<String>>,
    pub expires_at: Option<Option<Timestamp>>,
    pub scopes: Option<Vec<String>>,
    pub remaining_uses: Option<Option<i64>>,
    pub rate: Option<Option<RateLimit>>,
    /// `Some(None)`: `--no-refill`.
    pub refill: Option<Option<Refill>>,
    /// `Some(vec![])`: `--no-allow-ip`.
    pub allow_ip: Option<Vec<crate::ip::IpRule>>,
    /// `Some(None)`: `--no-owner`.
    pub owner: Option<Option<String>>,
    /// `Some(None)`: `--no-meta`.
    pub meta: Option<Option<String>>,
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
            after.service = service.clone();
        }
        if let Some(expires_at) = self.expires_at {
            after.expires_at = expires_at;
        }
        if let Some(scopes) = &self.scopes {
            after.limits.scopes = scopes.clone();
        }
        after.limits.edit_uses(self.remaining_uses, self.refill);
        if let Some(rate) = self.rate {
            after.limits.rate = rate;
        }
        if let Some(rules) = &self.allow_ip {
            after.limits.allow_ip = rules.clone();
        }
        if let Some(owner) = &self.owner {
            after.owner = owner.clone();
        }
        if let Some(meta) = &self.meta {
            after.meta = meta.clone();
        }
        after
    }

    /// What this edit changes in `before`, in words (not JSON field names:
    /// people read them), as the history records them.
    pub fn changed_fields(&self, before: &KeyRecord) -> Vec<&'static str> {
        let after = self.applied_to(before);
        [
            ("name", after.name != before.name),
            ("description", after.description != before.description),
            ("service", after.service != before.service),
            ("expiry", after.expires_at != before.expires_at),
            ("scopes", after.limits.scopes != before.limits.scopes),
            (
                "uses left",
                after.limits.remaining_uses != before.limits.remaining_uses,
            ),
            ("rate limit", after.limits.rate != before.limits.rate),
            (
                "refill",
                after.limits.refill_schedule() != before.limits.refill_schedule(),
            ),
            (
                "allowed IPs",
                after.limits.allow_ip != before.limits.allow_ip,
            ),
            ("owner", after.owner != before.owner),
            ("metadata", after.meta != before.meta),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_grants_what_starts_with_its_resource() {
        assert!(scope_grants("sms:send", "sms:send"));
        assert!(!scope_grants("sms:send", "sms:read"));
        assert!(scope_grants("sms:*", "sms:send"));
        assert!(scope_grants("sms:*", "sms:eu:send"));
        assert!(scope_grants("sms:*", "sms:*"));
        assert!(scope_grants("sms:*", "sms:eu:*"));
        assert!(!scope_grants("sms:*", "sms"));
        assert!(!scope_grants("sms:*", "smsx:send"));
        assert!(!scope_grants("sms:eu:*", "sms:*"));
        assert!(!scope_grants("sms:send", "sms:*"));
    }

    #[test]
    fn every_required_scope_must_be_granted() {
        let limits = Limits {
            scopes: vec!["sms:*".into(), "billing:read".into()],
            ..Limits::default()
        };
        let need = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(limits.grants_all(&[]));
        assert!(limits.grants_all(&need(&["sms:send", "billing:read"])));
        assert!(!limits.grants_all(&need(&["sms:send", "billing:write"])));
        assert!(!Limits::default().grants_all(&need(&["sms:send"])));
    }
}

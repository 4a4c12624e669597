//! The JSON objects of keys, owners and events (docs/src/commands/list.md,
//! docs/src/owners.md, docs/src/commands/history.md): the key object with
//! a hand-written writer for bulk listings, pinned to serde's by a test.

use std::io::{self, Write};

use serde::Serialize;

use crate::key_format::SecretKey;
use crate::store::{Event, KeyRecord, Limits, OwnerRecord, RateLimit, Timestamp};
use crate::time::Rfc3339;
use crate::verify::MetaJson;

/// The owner object of docs/src/owners.md (`owner list --json`, `owner show --json`...).
#[derive(Serialize)]
pub struct OwnerJson<'a> {
    id: &'a str,
    status: &'static str,
    created_at: Rfc3339,
    keys: u64,
    remaining_uses: Option<i64>,
    rate_limit: Option<RateJson>,
    refill: Option<RefillJson>,
    allow_ip: IpRulesJson<'a>,
}

impl<'a> OwnerJson<'a> {
    pub fn new(owner: &'a OwnerRecord, now: Timestamp) -> Self {
        OwnerJson {
            id: &owner.id,
            status: owner.status().as_str(),
            created_at: Rfc3339(owner.created_at),
            keys: owner.keys,
            remaining_uses: owner.limits.uses_left_at(now),
            rate_limit: owner.limits.rate.map(RateJson::from),
            refill: RefillJson::of(&owner.limits, now),
            allow_ip: IpRulesJson(&owner.limits.allow_ip),
        }
    }
}

/// The event object of docs/src/commands/history.md (`history --json`, `show --json`).
#[derive(Serialize)]
pub struct EventJson<'a> {
    at: Rfc3339,
    action: &'a str,
    key_id: Option<&'a str>,
    actor: &'a str,
    detail: Option<&'a str>,
    owner: Option<&'a str>,
}

impl<'a> EventJson<'a> {
    pub fn new(event: &'a Event) -> Self {
        EventJson {
            at: Rfc3339(event.at),
            action: &event.action,
            key_id: event.key_id.as_deref(),
            actor: &event.actor,
            detail: event.detail.as_deref(),
            owner: event.owner.as_deref(),
        }
    }
}

/// `<prefix>_<id>_********`, serialised without a string made for it.
struct Masked<'a>(&'a str, &'a str);

impl Serialize for Masked<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{}_{}_********", self.0, self.1))
    }
}

/// The key object of docs/src/commands/list.md, with `key` only at creation.
#[derive(Serialize)]
pub struct KeyJson<'a> {
    id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    service: Option<&'a str>,
    prefix: &'a str,
    masked: Masked<'a>,
    status: &'static str,
    created_at: Rfc3339,
    last_used_at: Option<Rfc3339>,
    use_count: i64,
    expires_at: Option<Rfc3339>,
    rotated_from: Option<&'a str>,
    replaced_by: Option<&'a str>,
    scopes: &'a [String],
    remaining_uses: Option<i64>,
    rate_limit: Option<RateJson>,
    refill: Option<RefillJson>,
    allow_ip: IpRulesJson<'a>,
    owner: Option<&'a str>,
    meta: MetaJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
}

/// IP rules in JSON: an array of CIDR strings (`["10.0.0.0/8"]`).
#[derive(Clone, Copy)]
pub struct IpRulesJson<'a>(pub &'a [crate::ip::IpRule]);

impl Serialize for IpRulesJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

/// A refill in JSON: `{"every": "monthly:1", "uses": N, "next_at": ...}`.
#[derive(Serialize, Clone, Copy)]
pub struct RefillJson {
    every: RefillEveryJson,
    uses: i64,
    next_at: Rfc3339,
}

/// A schedule as `--refill` takes it (`RefillEvery::stored`).
#[derive(Clone, Copy)]
struct RefillEveryJson(crate::model::RefillEvery);

impl Serialize for RefillEveryJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.stored())
    }
}

impl RefillJson {
    pub fn of(limits: &Limits, now: Timestamp) -> Option<RefillJson> {
        limits.refill.map(|r| RefillJson {
            every: RefillEveryJson(r.every),
            uses: r.uses,
            next_at: Rfc3339(r.next_at(now)),
        })
    }
}

/// A rate limit in JSON: `{"limit": N, "per_seconds": S}`.
#[derive(Serialize, Clone, Copy)]
pub struct RateJson {
    limit: u32,
    per_seconds: u32,
}

impl From<RateLimit> for RateJson {
    fn from(rate: RateLimit) -> Self {
        RateJson {
            limit: rate.limit,
            per_seconds: rate.per_seconds,
        }
    }
}

impl<'a> KeyJson<'a> {
    pub fn new(record: &'a KeyRecord, now: Timestamp) -> Self {
        KeyJson {
            id: &record.id,
            name: &record.name,
            description: record.description.as_deref(),
            service: record.service.as_deref(),
            prefix: &record.prefix,
            masked: Masked(&record.prefix, &record.id),
            status: record.status(now).as_str(),
            created_at: Rfc3339(record.created_at),
            last_used_at: record.last_used_at.map(Rfc3339),
            use_count: record.use_count,
            expires_at: record.expires_at.map(Rfc3339),
            rotated_from: record.rotated_from.as_deref(),
            replaced_by: record.replaced_by.as_deref(),
            scopes: &record.limits.scopes,
            remaining_uses: record.limits.uses_left_at(now),
            rate_limit: record.limits.rate.map(RateJson::from),
            refill: RefillJson::of(&record.limits, now),
            allow_ip: IpRulesJson(&record.limits.allow_ip),
            owner: record.owner.as_deref(),
            meta: MetaJson(record.meta.as_deref()),
            key: None,
        }
    }

    /// Writes the same bytes as `serde_json::to_writer(w, self)`, without
    /// escaping the field names each time or formatting through `fmt`: bulk
    /// listings and imports print millions of these. A test keeps the two equal.
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(b"{\"id\":")?;
        json_string(w, self.id)?;
        w.write_all(b",\"name\":")?;
        json_string(w, self.name)?;
        w.write_all(b",\"description\":")?;
        json_optional(w, self.description)?;
        w.write_all(b",\"service\":")?;
        json_optional(w, self.service)?;
        w.write_all(b",\"prefix\":")?;
        json_string(w, self.prefix)?;
        // Prefix and id are base62 and underscores (checked when parsed).
        w.write_all(b",\"masked\":")?;
        if is_plain(self.masked.0) && is_plain(self.masked.1) {
            w.write_all(b"\"")?;
            w.write_all(self.masked.0.as_bytes())?;
            w.write_all(b"_")?;
            w.write_all(self.masked.1.as_bytes())?;
            w.write_all(b"_********\"")?;
        } else {
            serde_json::to_writer(&mut *w, &self.masked)?;
        }
        w.write_all(b",\"status\":\"")?;
        w.write_all(self.status.as_bytes())?;
        w.write_all(b"\",\"created_at\":")?;
        json_time(w, Some(self.created_at))?;
        w.write_all(b",\"last_used_at\":")?;
        json_time(w, self.last_used_at)?;
        w.write_all(b",\"use_count\":")?;
        w.write_all(itoa::Buffer::new().format(self.use_count).as_bytes())?;
        w.write_all(b",\"expires_at\":")?;
        json_time(w, self.expires_at)?;
        w.write_all(b",\"rotated_from\":")?;
        json_optional(w, self.rotated_from)?;
        w.write_all(b",\"replaced_by\":")?;
        json_optional(w, self.replaced_by)?;
        w.write_all(b",\"scopes\":[")?;
        for (i, scope) in self.scopes.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            json_string(w, scope)?;
        }
        w.write_all(b"],\"remaining_uses\":")?;
        match self.remaining_uses {
            Some(n) => w.write_all(itoa::Buffer::new().format(n).as_bytes())?,
            None => w.write_all(b"null")?,
        }
        w.write_all(b",\"rate_limit\":")?;
        match self.rate_limit {
            Some(rate) => {
                w.write_all(b"{\"limit\":")?;
                w.write_all(itoa::Buffer::new().format(rate.limit).as_bytes())?;
                w.write_all(b",\"per_seconds\":")?;
                w.write_all(itoa::Buffer::new().format(rate.per_seconds).as_bytes())?;
                w.write_all(b"}")?;
            }
            None => w.write_all(b"null")?,
        }
        w.write_all(b",\"refill\":")?;
        // Rare: through serde.
        serde_json::to_writer(&mut *w, &self.refill)?;
        w.write_all(b",\"allow_ip\":")?;
        serde_json::to_writer(&mut *w, &self.allow_ip)?;
        w.write_all(b",\"owner\":")?;
        json_optional(w, self.owner)?;
        w.write_all(b",\"meta\":")?;
        match self.meta.raw() {
            Some(raw) => w.write_all(raw.get().as_bytes())?,
            None => w.write_all(b"null")?,
        }
        if let Some(key) = self.key {
            w.write_all(b",\"key\":")?;
            json_string(w, key)?;
        }
        w.write_all(b"}")
    }

    /// Adds the full key: only `create` and `rotate` call this.
    pub fn with_secret(mut self, secret: &'a SecretKey) -> Self {
        self.key = Some(secret.expose());
        self
    }
}

/// Nothing JSON would escape: no quote, backslash or control character.
fn is_plain(text: &str) -> bool {
    text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

fn json_string(w: &mut impl Write, text: &str) -> io::Result<()> {
    if is_plain(text) {
        w.write_all(b"\"")?;
        w.write_all(text.as_bytes())?;
        w.write_all(b"\"")
    } else {
        serde_json::to_writer(w, text).map_err(io::Error::from)
    }
}

fn json_optional(w: &mut impl Write, text: Option<&str>) -> io::Result<()> {
    match text {
        Some(text) => json_string(w, text),
        None => w.write_all(b"null"),
    }
}

fn json_time(w: &mut impl Write, at: Option<Rfc3339>) -> io::Result<()> {
    match at.map(|at| (at, at.ascii())) {
        Some((_, Some(ascii))) => {
            w.write_all(b"\"")?;
            w.write_all(&ascii)?;
            w.write_all(b"\"")
        }
        Some((at, None)) => write!(w, "\"{at}\""),
        None => w.write_all(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::KeyJson;
    use crate::key_format::KeyHash;
    use crate::store::{KeyRecord, Limits, RateLimit};

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9_ -]{0,12}",
            "\\PC{0,12}",
            ".{0,12}",
            "[\"\\\\\\x00-\\x1f\\x7f]{0,6}"
        ]
    }

    fn time() -> impl Strategy<Value = i64> {
        prop_oneof![0i64..4_102_444_800, -100_000_000_000i64..400_000_000_000]
    }

    proptest! {
        #[test]
        fn the_fast_key_writer_matches_serde_json(
            id in text(), name in text(), description in proptest::option::of(text()),
            service in proptest::option::of(text()), prefix in text(),
            disabled: bool, created_at in time(), expires_at in proptest::option::of(time()),
            last_used_at in proptest::option::of(time()), use_count: i64,
            rotated_from in proptest::option::of(text()), replaced_by in proptest::option::of(text()),
            key in proptest::option::of(text()), now in time(),
            scopes in proptest::collection::vec(text(), 0..3),
            remaining_uses in proptest::option::of(any::<i64>()),
            rate in proptest::option::of((any::<u32>(), any::<u32>())),
            owner in proptest::option::of(text()),
            // Metadata as stored (a JSON object), and text no keysmith wrote.
            meta in prop_oneof![
                Just(None),
                text().prop_map(|t| Some(serde_json::json!({"k": t, "n": [1, 2.5]}).to_string())),
                text().prop_map(Some),
            ],
        ) {
            let limits = Limits {
                scopes,
                remaining_uses,
                rate: rate.map(|(limit, per_seconds)| RateLimit { limit, per_seconds }),
                refill: None,
                allow_ip: Vec::new(),
            };
            let record = KeyRecord {
                id, hash: KeyHash([0; 32]), prefix, name, description, service, disabled,
                created_at, expires_at, last_used_at, use_count, rotated_from, replaced_by, limits,
                owner, meta,
            };
            let mut json = KeyJson::new(&record, now);
            json.key = key.as_deref();
            let mut fast = Vec::new();
            json.write_to(&mut fast).unwrap();
            prop_assert_eq!(String::from_utf8(fast).unwrap(), serde_json::to_string(&json).unwrap());
        }
    }
}

//! The one JSON shape of a verdict, for `verify --json`, `verify --stdin-all
//! --json` and `serve`'s answers (docs/src/serve.md).

use serde::Serialize;

use super::Verdict;

/// A key's metadata as the JSON object it is (stored as compact JSON
/// text), or null. Text that is not JSON (only a damaged store could hold
/// it) is null: nothing unchecked is spliced into the output.
#[derive(Clone, Copy)]
pub struct MetaJson<'a>(pub Option<&'a str>);

impl<'a> MetaJson<'a> {
    pub fn raw(self) -> Option<&'a serde_json::value::RawValue> {
        self.0.and_then(|text| serde_json::from_str(text).ok())
    }
}

impl Serialize for MetaJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw().serialize(s)
    }
}

/// A verdict as JSON, the one shape of every answer: `verify --json`
/// prints `{valid, code, id, name, owner, meta, uses}` (the owner,
/// metadata and uses left with VALID only: a refused key must not reveal whose it is,
/// docs/src/owners.md); `verify --stdin-all --json` adds
/// `line`; `serve`'s `/v1/verify` and `/v1/verify/batch` add the found
/// key's `service`, `scopes`, `expires_at` and `remaining_uses` (each null
/// when no key was found).
pub struct VerdictJson<'a> {
    verdict: &'a Verdict,
    line: Option<u64>,
    key_details: bool,
}

impl<'a> VerdictJson<'a> {
    pub fn new(verdict: &'a Verdict) -> Self {
        VerdictJson {
            verdict,
            line: None,
            key_details: false,
        }
    }

    /// With the input line the key was read from.
    pub fn at_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    /// With the found key's service, scopes, expiry and uses left.
    pub fn with_key_details(mut self) -> Self {
        self.key_details = true;
        self
    }
}

/// What a VALID answer says of the uses left (docs/src/owners.md), so that
/// an API can tell its customer how much is left and when it comes back:
/// the key's and its owner's, each with its next refill; null when neither
/// has a limit of uses.
#[derive(serde::Serialize)]
struct UsesJson {
    remaining: Option<i64>,
    refill_at: Option<crate::time::Rfc3339>,
    owner_remaining: Option<i64>,
    owner_refill_at: Option<crate::time::Rfc3339>,
}

impl UsesJson {
    fn of(key: &crate::model::Credential, at: crate::model::Timestamp) -> Option<UsesJson> {
        if !key.has_limited_uses() {
            return None;
        }
        let owner = key.owner_state.as_ref().map(|o| &o.limits);
        let next = |limits: Option<&crate::model::Limits>| {
            limits
                .and_then(|l| l.next_refill(at))
                .map(crate::time::Rfc3339)
        };
        Some(UsesJson {
            remaining: key.limits.remaining_uses.map(|n| n.max(0)),
            refill_at: next(Some(&key.limits)),
            owner_remaining: owner.and_then(|l| l.remaining_uses).map(|n| n.max(0)),
            owner_refill_at: next(owner),
        })
    }
}

/// Written by hand, field by field in a fixed order, rather than with a
/// derive and `#[serde(flatten)]`: flattening goes through a map, and this
/// is every answer `serve` gives.
impl serde::Serialize for VerdictJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let key = self.verdict.key.as_ref();
        let fields = 7 + usize::from(self.line.is_some()) + 4 * usize::from(self.key_details);
        let mut out = serializer.serialize_struct("Verdict", fields)?;
        out.serialize_field("valid", &self.verdict.is_valid())?;
        out.serialize_field("code", self.verdict.code.as_str())?;
        out.serialize_field("id", &key.map(|k| k.id.as_str()))?;
        out.serialize_field("name", &key.map(|k| k.name.as_str()))?;
        let valid = key.filter(|_| self.verdict.is_valid());
        out.serialize_field("owner", &valid.and_then(|k| k.owner.as_deref()))?;
        out.serialize_field("meta", &MetaJson(valid.and_then(|k| k.meta.as_deref())))?;
        out.serialize_field(
            "uses",
            &valid.and_then(|k| UsesJson::of(k, self.verdict.at)),
        )?;
        if self.key_details {
            out.serialize_field("service", &key.and_then(|k| k.service.as_deref()))?;
            out.serialize_field("scopes", &key.map(|k| k.limits.scopes.as_slice()))?;
            out.serialize_field(
                "expires_at",
                &key.and_then(|k| k.expires_at).map(crate::time::Rfc3339),
            )?;
            // Null: unlimited, or no key found.
            out.serialize_field(
                "remaining_uses",
                &key.and_then(|k| k.limits.remaining_uses).map(|n| n.max(0)),
            )?;
        }
        if let Some(line) = self.line {
            out.serialize_field("line", &line)?;
        }
        out.end()
    }
}

//! Verification of a presented key (docs/src/commands/verify.md), shared by the CLI and
//! applications that check keys in-process.

use crate::error::Result;
use crate::key_format::{self, ParsedKey};
use crate::model::{Credential, Status, Timestamp};
use crate::store::Store;

/// The outcome codes, in order of precedence after `Valid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Valid,
    Malformed,
    NotFound,
    Disabled,
    Expired,
    WrongService,
    /// The key lacks a scope the request requires (docs/src/limits.md).
    InsufficientScope,
    /// The key has no uses left (docs/src/limits.md).
    UsageExceeded,
    /// Past the key's rate limit in this `serve` process (docs/src/limits.md); not
    /// in the precedence: only a key otherwise VALID is counted.
    RateLimited,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Valid => "VALID",
            Code::Malformed => "MALFORMED",
            Code::NotFound => "NOT_FOUND",
            Code::Disabled => "DISABLED",
            Code::Expired => "EXPIRED",
            Code::WrongService => "WRONG_SERVICE",
            Code::InsufficientScope => "INSUFFICIENT_SCOPE",
            Code::UsageExceeded => "USAGE_EXCEEDED",
            Code::RateLimited => "RATE_LIMITED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub code: Code,
    /// What the store holds for the presented key, when it matched one;
    /// after a use was spent, its remaining uses are those left after it.
    pub key: Option<Credential>,
    /// RATE_LIMITED: how long until the key's window admits another answer.
    pub retry_after: Option<std::time::Duration>,
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        self.code == Code::Valid
    }

    pub fn new(code: Code, key: Option<Credential>) -> Self {
        Verdict {
            code,
            key,
            retry_after: None,
        }
    }

    /// Whether this VALID verdict still has to spend one of a limited
    /// number of uses (`spend`).
    pub fn spends_a_use(&self) -> bool {
        self.is_valid()
            && self
                .key
                .as_ref()
                .is_some_and(|k| k.limits.remaining_uses.is_some())
    }
}

/// What a verification requires of a key besides being valid: belonging
/// to `service`, holding every scope of `scopes`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Required<'a> {
    pub service: Option<&'a str>,
    pub scopes: &'a [String],
}

/// A service alone: `verify(store, key, Some("sms"), now)`.
impl<'a> From<Option<&'a str>> for Required<'a> {
    fn from(service: Option<&'a str>) -> Self {
        Required {
            service,
            scopes: &[],
        }
    }
}

/// Parses `presented` and checks it against `required` (a service, or a
/// `Required` with scopes); a malformed key never touches the store. A
/// valid key's use is recorded (spent, when it has a limit).
pub fn verify<'r>(
    store: &mut dyn Store,
    presented: &str,
    required: impl Into<Required<'r>>,
    now: Timestamp,
) -> Result<Verdict> {
    match key_format::parse(presented) {
        None => Ok(Verdict::new(Code::Malformed, None)),
        Some(parsed) => check(store, &parsed, required.into(), now),
    }
}

/// Checks a well-formed key and, when it is valid, records the use (see
/// `record`). A rejected key changes nothing.
pub fn check(
    store: &mut dyn Store,
    parsed: &ParsedKey,
    required: Required<'_>,
    now: Timestamp,
) -> Result<Verdict> {
    let mut stored = None;
    store.credentials(&[parsed.id.as_str()], &mut |_, found| {
        stored = found;
        Ok(())
    })?;
    let mut verdicts = [judge(parsed, stored, required, now)];
    record(store, &mut verdicts, now)?;
    let [verdict] = verdicts;
    Ok(verdict)
}

/// Judges a well-formed key against what the store holds under its id, if
/// anything, in the precedence of docs/src/commands/verify.md; records nothing, spends nothing
/// (see `record`). A VALID key with a limit of uses may still turn out to
/// have none left.
pub fn judge(
    parsed: &ParsedKey,
    stored: Option<Credential>,
    required: Required<'_>,
    now: Timestamp,
) -> Verdict {
    let Some(record) = stored else {
        return Verdict::new(Code::NotFound, None);
    };
    // Right id, wrong secret: the presented key is not one we issued.
    if !record.hash.matches(&parsed.hash) {
        return Verdict::new(Code::NotFound, None);
    }
    let code = match record.status(now) {
        Status::Disabled => Code::Disabled,
        Status::Expired => Code::Expired,
        Status::Enabled
            if required
                .service
                .is_some_and(|s| record.service.as_deref() != Some(s)) =>
        {
            Code::WrongService
        }
        Status::Enabled if !record.limits.grants_all(required.scopes) => Code::InsufficientScope,
        // Judged without spending: `spend` finds whether a use is left.
        Status::Enabled if record.limits.remaining_uses.is_some_and(|n| n <= 0) => {
            Code::UsageExceeded
        }
        Status::Enabled => Code::Valid,
    };
    Verdict::new(code, Some(record))
}

/// Records the uses of the VALID verdicts, as the CLI does: spends those of
/// keys with a limit (`spend`), then records the others' in one write.
pub fn record(store: &mut dyn Store, verdicts: &mut [Verdict], now: Timestamp) -> Result<()> {
    spend(store, verdicts, now)?;
    let unlimited: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.is_valid() && !v.spends_a_use())
        .filter_map(|v| v.key.as_ref().map(|k| k.id.as_str()))
        .collect();
    if !unlimited.is_empty() {
        store.record_uses(&unlimited, now)?;
    }
    Ok(())
}

/// Spends one use for each VALID verdict of a key with a limit, in one
/// transaction (`Store::spend_uses`), exact across processes. When a key
/// has fewer uses left than it was presented, the first verdicts in order
/// get them and the rest become USAGE_EXCEEDED; a key deleted meanwhile is
/// NOT_FOUND. Each VALID verdict's key then shows the uses left after it.
/// Returns how many uses were spent.
pub fn spend(store: &mut dyn Store, verdicts: &mut [Verdict], now: Timestamp) -> Result<u64> {
    // Each id once, with where it was presented.
    let mut wanted: Vec<(String, Vec<usize>)> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, verdict) in verdicts.iter().enumerate() {
        if !verdict.spends_a_use() {
            continue;
        }
        let id = verdict.key.as_ref().map_or("", |k| k.id.as_str());
        match index.get(id) {
            Some(&j) => wanted[j].1.push(i),
            None => {
                index.insert(id, wanted.len());
                wanted.push((id.to_owned(), vec![i]));
            }
        }
    }
    drop(index);
    if wanted.is_empty() {
        return Ok(0);
    }
    let asked: Vec<(&str, u64)> = wanted
        .iter()
        .map(|(id, at)| (id.as_str(), at.len() as u64))
        .collect();
    let answers = store.spend_uses(&asked, now)?;
    let mut spent = 0;
    for ((_, positions), answer) in wanted.iter().zip(answers) {
        for (n, &i) in positions.iter().enumerate() {
            let verdict = &mut verdicts[i];
            match answer {
                None => *verdict = Verdict::new(Code::NotFound, None),
                Some(got) => {
                    let key = verdict
                        .key
                        .as_mut()
                        .expect("a verdict that spends has a key");
                    if (n as u64) < got.granted {
                        key.limits.remaining_uses = got
                            .remaining
                            .map(|left| left + (got.granted - 1 - n as u64) as i64);
                        spent += 1;
                    } else {
                        verdict.code = Code::UsageExceeded;
                        key.limits.remaining_uses = got.remaining;
                    }
                }
            }
        }
    }
    Ok(spent)
}

/// A verdict as JSON, the one shape of every answer: `verify --json`
/// prints `{valid, code, id, name}`; `verify --stdin-all --json` adds
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

/// Written by hand, field by field in a fixed order, rather than with a
/// derive and `#[serde(flatten)]`: flattening goes through a map, and this
/// is every answer `serve` gives.
impl serde::Serialize for VerdictJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let key = self.verdict.key.as_ref();
        let fields = 4 + usize::from(self.line.is_some()) + 4 * usize::from(self.key_details);
        let mut out = serializer.serialize_struct("Verdict", fields)?;
        out.serialize_field("valid", &self.verdict.is_valid())?;
        out.serialize_field("code", self.verdict.code.as_str())?;
        out.serialize_field("id", &key.map(|k| k.id.as_str()))?;
        out.serialize_field("name", &key.map(|k| k.name.as_str()))?;
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

//! Verification of a presented key (SPEC §5 `verify`), shared by the CLI and
//! applications that check keys in-process.

use crate::error::Result;
use crate::key::{self, ParsedKey};
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
    /// The key lacks a scope the request requires (SPEC §8).
    InsufficientScope,
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
        }
    }
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub code: Code,
    /// What the store holds for the presented key, when it matched one.
    pub key: Option<Credential>,
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        self.code == Code::Valid
    }

    fn rejected(code: Code, key: Option<Credential>) -> Self {
        Verdict { code, key }
    }
}

/// Parses `presented` and checks it; a malformed key never touches the
/// store. A valid key's use is recorded.
pub fn verify(
    store: &mut dyn Store,
    presented: &str,
    service: Option<&str>,
    now: Timestamp,
) -> Result<Verdict> {
    match key::parse(presented) {
        None => Ok(Verdict::rejected(Code::Malformed, None)),
        Some(parsed) => check(store, &parsed, service, now),
    }
}

/// Checks a well-formed key and, when it is valid, records the use.
/// A rejected key changes nothing.
pub fn check(
    store: &mut dyn Store,
    parsed: &ParsedKey,
    service: Option<&str>,
    now: Timestamp,
) -> Result<Verdict> {
    let mut stored = None;
    store.credentials(&[parsed.id.as_str()], &mut |_, found| {
        stored = found;
        Ok(())
    })?;
    let verdict = judge(parsed, stored, service, now);
    if verdict.is_valid() {
        store.record_uses(&[parsed.id.as_str()], now)?;
    }
    Ok(verdict)
}

/// Judges a well-formed key against what the store holds under its id, if
/// anything; records nothing (batch verification records uses in bulk).
pub fn judge(
    parsed: &ParsedKey,
    stored: Option<Credential>,
    service: Option<&str>,
    now: Timestamp,
) -> Verdict {
    let Some(record) = stored else {
        return Verdict::rejected(Code::NotFound, None);
    };
    // Right id, wrong secret: the presented key is not one we issued.
    if !record.hash.matches(&parsed.hash) {
        return Verdict::rejected(Code::NotFound, None);
    }
    let code = match record.status(now) {
        Status::Disabled => Code::Disabled,
        Status::Expired => Code::Expired,
        Status::Enabled if service.is_some_and(|s| record.service.as_deref() != Some(s)) => {
            Code::WrongService
        }
        Status::Enabled => Code::Valid,
    };
    Verdict {
        code,
        key: Some(record),
    }
}

/// Requires every scope in `required` of a key judged valid. Keys hold no
/// scopes yet (SPEC §8 comes later), so any required scope is missing: a
/// request that asks for one is refused rather than over-granted. Applied
/// after `judge`, it keeps the precedence of SPEC §5: only a key that is
/// otherwise VALID becomes INSUFFICIENT_SCOPE.
pub fn require_scopes(verdict: &mut Verdict, required: &[String]) {
    if verdict.is_valid() && !required.is_empty() {
        verdict.code = Code::InsufficientScope;
    }
}

//! Verification of a presented key (SPEC §5 `verify`), shared by the CLI and
//! applications that check keys in-process.

use crate::error::Result;
use crate::key::{self, ParsedKey};
use crate::store::{KeyRecord, Status, Store, Timestamp};

/// The outcome codes, in order of precedence after `Valid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Valid,
    Malformed,
    NotFound,
    Disabled,
    Expired,
    WrongService,
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
        }
    }
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub code: Code,
    /// The stored key, when the presented key matched one.
    pub key: Option<KeyRecord>,
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        self.code == Code::Valid
    }

    fn rejected(code: Code, key: Option<KeyRecord>) -> Self {
        Verdict { code, key }
    }
}

/// Parses `presented` and checks it; a malformed key never touches the store.
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
    let mut verdict = judge(store, parsed, service, now)?;
    if let (Code::Valid, Some(record)) = (verdict.code, verdict.key.as_mut()) {
        store.record_use(&record.id, now)?;
        record.last_used_at = Some(now);
        record.use_count += 1;
    }
    Ok(verdict)
}

/// Judges a well-formed key without recording anything; the caller records
/// the use of a valid key (batch verification does so many at a time).
pub fn judge(
    store: &mut dyn Store,
    parsed: &ParsedKey,
    service: Option<&str>,
    now: Timestamp,
) -> Result<Verdict> {
    Ok(judge_record(
        parsed,
        store.key_by_id(&parsed.id)?,
        service,
        now,
    ))
}

/// Judges a well-formed key against the record stored under its id, if any.
pub fn judge_record(
    parsed: &ParsedKey,
    stored: Option<KeyRecord>,
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

//! Verification of a presented key (docs/src/commands/verify.md), shared by the CLI,
//! `serve` and applications that check keys in-process: the whole verdict
//! lives here, whoever asks.
//!
//! - this file: what is required of a key (`Required`, one type from a
//!   request or the command line to the verdict), the checks and their
//!   precedence (`judge`), and `verify`/`check`, which judge and record;
//! - `spend.rs`: the uses of VALID verdicts, spent (a key with a limit of
//!   uses) or recorded;
//! - `rated.rs`: `serve`'s verdicts, which add the rate limit (reserve,
//!   then commit or cancel by the final answer) and uses counted in memory;
//! - `fleet.rs`: the CLI's and the library's verdicts held to the same
//!   fleet-wide rate limits;
//! - `json.rs`: the one JSON shape of a verdict.

use crate::error::Result;
use crate::ip;
use crate::key_format::{self, ParsedKey};
use crate::model::{Credential, Status, Timestamp};
use crate::store::Store;

mod fleet;
mod json;
mod rated;
mod spend;

pub use json::{MetaJson, VerdictJson};
pub use rated::{Judged, NeedsLease, judge_rated};
pub use spend::{record, spend};

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
    /// The client's address is outside the key's or its owner's IP rules,
    /// or unknown to a key that has some (docs/src/owners.md).
    IpNotAllowed,
    /// Past the key's or its owner's rate limit, counted across every
    /// process sharing the store (docs/src/fleet-limits.md); not in the
    /// precedence: only a key otherwise VALID is counted.
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
            Code::IpNotAllowed => "IP_NOT_ALLOWED",
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
    /// The uses a VALID answer spends (`Required::cost`).
    pub cost: u64,
    /// When it was judged: what the next refill is counted from.
    pub at: Timestamp,
    /// NOT_FOUND because the key is a root key (docs/src/limits.md): for
    /// the operator's eyes only (`keysmith verify`), never an answer's.
    pub root_key: bool,
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
            cost: 1,
            at: 0,
            root_key: false,
        }
    }

    /// Whether this VALID verdict still has to spend one of a limited
    /// number of uses (`spend`).
    pub fn spends_a_use(&self) -> bool {
        self.is_valid() && self.key.as_ref().is_some_and(Credential::has_limited_uses)
    }

    /// Whether this VALID verdict counts a use without spending one (a key
    /// with no limit of uses): recorded in one write (`record`), or, in
    /// `serve`, counted in memory and written later.
    pub fn counts_a_use(&self) -> bool {
        self.is_valid() && !self.spends_a_use()
    }
}

/// What a verification requires of a key besides being valid: belonging
/// to `service`, holding every scope of `scopes`, and `cost` uses left to
/// spend (docs/src/owners.md). One type from where it is read (`keysmith
/// verify`'s flags, `serve`'s request) to the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Required {
    pub service: Option<String>,
    pub scopes: Vec<String>,
    /// The uses a VALID answer spends (of the key and of its owner, when
    /// they have a limit); 1 unless asked.
    pub cost: u64,
    /// A batch's cost of each key, by position, where given (else `cost`).
    pub costs: Vec<u64>,
    /// The client's address, for IP rules; `None`: unknown (a key with
    /// rules is then refused).
    pub client_ip: Option<std::net::IpAddr>,
}

impl Default for Required {
    fn default() -> Self {
        Required {
            service: None,
            scopes: Vec::new(),
            cost: 1,
            costs: Vec::new(),
            client_ip: None,
        }
    }
}

impl Required {
    /// The cost of the key at position `i` of a batch.
    pub fn cost_at(&self, i: usize) -> u64 {
        self.costs.get(i).copied().unwrap_or(self.cost)
    }
}

/// A service alone: `verify(store, key, Some("sms"), now)`.
impl From<Option<&str>> for Required {
    fn from(service: Option<&str>) -> Self {
        Required {
            service: service.map(str::to_owned),
            ..Required::default()
        }
    }
}

/// Parses `presented` and checks it against `required` (a service, or a
/// `Required` with scopes); a malformed key never touches the store. A
/// valid key's use is recorded (spent, when it has a limit).
pub fn verify(
    store: &mut dyn Store,
    presented: &str,
    required: impl Into<Required>,
    now: Timestamp,
) -> Result<Verdict> {
    match key_format::parse(presented) {
        None => Ok(Verdict::new(Code::Malformed, None)),
        Some(parsed) => check(store, &parsed, &required.into(), now),
    }
}

/// Checks a well-formed key and, when it is valid, records the use (see
/// `record`). A rejected key changes nothing.
pub fn check(
    store: &mut dyn Store,
    parsed: &ParsedKey,
    required: &Required,
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
    required: &Required,
    now: Timestamp,
) -> Verdict {
    judge_costing(parsed, stored, required, required.cost, now)
}

/// `judge`, for a VALID answer that spends `cost` uses: a cost above the
/// uses left (the key's, or its owner's) is USAGE_EXCEEDED.
pub fn judge_costing(
    parsed: &ParsedKey,
    stored: Option<Credential>,
    required: &Required,
    cost: u64,
    now: Timestamp,
) -> Verdict {
    let Some(mut record) = stored else {
        return Verdict::new(Code::NotFound, None);
    };
    record.refilled_view(now);
    // Right id, wrong secret: the presented key is not one we issued.
    if !record.hash.matches(&parsed.hash) {
        return Verdict::new(Code::NotFound, None);
    }
    // A root key authorises keysmith's admin API, nothing else: to an
    // application it does not exist (docs/src/limits.md).
    if record.limits.is_root() {
        let mut verdict = Verdict::new(Code::NotFound, None);
        verdict.root_key = true;
        return verdict;
    }
    // IP rules come first among the refusals of a found key: from outside
    // its ranges, a key says nothing of its state (docs/src/owners.md).
    let owner_rules = record
        .owner_state
        .as_ref()
        .map(|o| o.limits.allow_ip.as_slice());
    if !ip::allows(&record.limits.allow_ip, required.client_ip)
        || !ip::allows(owner_rules.unwrap_or_default(), required.client_ip)
    {
        return Verdict::new(Code::IpNotAllowed, Some(record));
    }
    // A disabled owner refuses its keys as if each were disabled, right
    // after a key's own switch (docs/src/owners.md).
    let owner_off = record.owner_state.as_ref().is_some_and(|o| o.disabled);
    let code = match record.status(now) {
        Status::Disabled => Code::Disabled,
        _ if owner_off => Code::Disabled,
        Status::Expired => Code::Expired,
        Status::Enabled
            if required
                .service
                .as_deref()
                .is_some_and(|s| record.service.as_deref() != Some(s)) =>
        {
            Code::WrongService
        }
        Status::Enabled if !record.limits.grants_all(&required.scopes) => Code::InsufficientScope,
        // Judged without spending: `spend` finds whether a use is left.
        Status::Enabled
            if [record.limits.remaining_uses, record.owner_uses()]
                .into_iter()
                .flatten()
                .any(|left| left < 0 || (left as u64) < cost.max(1)) =>
        {
            Code::UsageExceeded
        }
        Status::Enabled => Code::Valid,
    };
    let mut verdict = Verdict::new(code, Some(record));
    verdict.cost = cost;
    verdict.at = now;
    verdict
}

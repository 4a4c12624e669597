//! The input rules of docs/src/input-rules.md, one type each: a value of
//! the type has passed its rule. Every type reads itself with `FromStr`,
//! and the same reading serves flags (as clap value parsers, made in
//! `cli/rules.rs`), `create --from` lines (`key_line`) and prompt answers.
//! A refusal (`Invalid`) names the field and the rule.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::error::Error;
use crate::model::{ROOT_SCOPES, RateLimit};

pub const MAX_NAME_CHARS: usize = 128;
/// A `create --from` line longer than this is refused rather than buffered.
pub const MAX_LINE: u64 = 1 << 20;
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
const MAX_SERVICE_LEN: usize = 32;
/// The most scopes one key holds (docs/src/limits.md).
pub const MAX_SCOPES: usize = 64;
const MAX_SCOPE_LEN: usize = 64;
/// The most uses a key can be granted: more than any key will ever have,
/// and exact as a JSON number in every language (2^53 is not reached).
pub const MAX_USES: i64 = 1_000_000_000_000;
/// The most VALID answers a rate limit allows per window.
pub const MAX_RATE: u32 = 1_000_000;
/// The longest rate-limit window: a day. Longer budgets are uses.
const MAX_RATE_WINDOW: i64 = 86_400;
const MAX_OWNER_LEN: usize = 128;
/// The largest metadata of a key, as stored (compact JSON), in bytes.
pub const MAX_META_BYTES: usize = 4096;

/// A value refused by its rule: "invalid FIELD: RULE". The rules of
/// names, descriptions, services, prefixes and scopes are named by their
/// noun wherever the value came from; a duration, a number of uses, a
/// rate or an action is named by where it came from (`--grace`,
/// `expires_in`, `expiry`), which the reader says with `or_field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    field: Option<Cow<'static, str>>,
    /// The field's name when the reader gave none.
    noun: &'static str,
    rule: Cow<'static, str>,
}

impl Invalid {
    fn named(noun: &'static str, rule: impl Into<Cow<'static, str>>) -> Self {
        Invalid {
            field: Some(Cow::Borrowed(noun)),
            noun,
            rule: rule.into(),
        }
    }

    fn unnamed(noun: &'static str, rule: impl Into<Cow<'static, str>>) -> Self {
        Invalid {
            field: None,
            noun,
            rule: rule.into(),
        }
    }

    /// A value that is not text at all (a flag given bytes that are not UTF-8).
    pub fn not_utf8() -> Self {
        Invalid::unnamed("value", "is not UTF-8")
    }

    /// Names the value by `field` unless its rule names it already.
    pub fn or_field(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        self.field.get_or_insert_with(|| field.into());
        self
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field.as_deref().unwrap_or(self.noun);
        write!(f, "invalid {field}: {}", self.rule)
    }
}

impl std::error::Error for Invalid {}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        Error::Usage(e.to_string())
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// A text value that passed its rule, shown as it stands.
macro_rules! text_rule {
    ($($rule:ident),+) => {$(
        impl $rule {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<$rule> for String {
            fn from(value: $rule) -> String {
                value.0
            }
        }

        impl fmt::Display for $rule {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

text_rule!(Name, Service, Prefix, Scope, Action, Owner, Meta);

/// Name: required, trimmed, 1–128 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl FromStr for Name {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_CHARS || has_control(trimmed) {
            return Err(Invalid::named(
                "name",
                "must be 1 to 128 characters with no control characters (newline, tab, escape...)",
            ));
        }
        Ok(Name(trimmed.to_owned()))
    }
}

/// Description: optional, trimmed, at most 1024 characters, no control
/// characters. An empty description is no description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(Option<String>);

impl Description {
    /// The text, or `None` for an empty description.
    pub fn into_text(self) -> Option<String> {
        self.0
    }
}

impl FromStr for Description {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        if trimmed.chars().count() > MAX_DESCRIPTION_CHARS || has_control(trimmed) {
            return Err(Invalid::named(
                "description",
                "must be at most 1024 characters with no control characters (newline, tab, escape...)",
            ));
        }
        Ok(Description(
            (!trimmed.is_empty()).then(|| trimmed.to_owned()),
        ))
    }
}

/// Service: `[a-z0-9][a-z0-9-]{0,31}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service(String);

impl FromStr for Service {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let bytes = raw.as_bytes();
        let ok = !bytes.is_empty()
            && bytes.len() <= MAX_SERVICE_LEN
            && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if !ok {
            return Err(Invalid::named(
                "service",
                "must be 1 to 32 characters of a-z, 0-9 and '-', starting with a letter or digit",
            ));
        }
        Ok(Service(raw.to_owned()))
    }
}

/// Prefix: `[a-z][a-z0-9]{0,15}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix(String);

impl FromStr for Prefix {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        if !crate::key_format::is_valid_prefix(raw) {
            return Err(Invalid::named(
                "prefix",
                "must be 1 to 16 characters of a-z and 0-9, starting with a letter",
            ));
        }
        Ok(Prefix(raw.to_owned()))
    }
}

/// Scope: `[a-z0-9][a-z0-9_.:-]{0,63}`, with `*` allowed as a whole last
/// segment after `:` (`sms:*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(String);

impl FromStr for Scope {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let body = raw
            .strip_suffix(":*")
            .map_or(raw, |base| &raw[..base.len() + 1]);
        let bytes = body.as_bytes();
        let ok = !bytes.is_empty()
            && raw.len() <= MAX_SCOPE_LEN
            && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
            && bytes.iter().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'_' | b'.' | b':' | b'-')
            });
        if !ok {
            return Err(Invalid::named(
                "scope",
                "must be 1 to 64 characters of a-z, 0-9, '_', '.', ':' and '-', starting with a \
                 letter or digit, optionally ending in ':*' (for example sms:send or sms:*)",
            ));
        }
        Ok(Scope(raw.to_owned()))
    }
}

/// A refill's schedule (`--refill`, docs/src/owners.md): `daily`, `weekly`
/// (from Monday), `monthly` (on the 1st), `monthly:DAY` (1 to 31), or an
/// interval in the duration grammar, such as `12h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefillSpec(pub crate::model::RefillEvery);

impl FromStr for RefillSpec {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        use crate::model::RefillEvery;
        let every = match raw {
            "daily" => Some(RefillEvery::Day),
            "weekly" => Some(RefillEvery::Week),
            "monthly" => Some(RefillEvery::Month(1)),
            _ => match raw.strip_prefix("monthly:") {
                Some(day) => day
                    .parse::<u8>()
                    .ok()
                    .filter(|d| (1..=31).contains(d) && day.bytes().all(|b| b.is_ascii_digit()))
                    .map(RefillEvery::Month),
                None => raw
                    .parse::<Duration>()
                    .ok()
                    .filter(|d| d.seconds() > 0)
                    .map(|d| RefillEvery::Interval(d.seconds())),
            },
        };
        every.map(RefillSpec).ok_or_else(|| {
            Invalid::unnamed(
                "refill",
                "must be daily, weekly, monthly, monthly:DAY (DAY from 1 to 31) or a duration \
                 such as 12h",
            )
        })
    }
}

/// An IP rule (`--allow-ip`): an IPv4 or IPv6 address or CIDR range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowIp(pub crate::ip::IpRule);

impl FromStr for AllowIp {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        raw.parse().map(AllowIp).map_err(|()| {
            Invalid::named(
                "IP rule",
                "must be an IPv4 or IPv6 address or CIDR range, such as 203.0.113.0/24 or \
                 2001:db8::/32",
            )
        })
    }
}

/// A key's IP rules: duplicates dropped, at most 64.
pub fn ip_rules(
    given: impl IntoIterator<Item = AllowIp>,
) -> Result<Vec<crate::ip::IpRule>, Invalid> {
    let mut rules = Vec::new();
    for AllowIp(rule) in given {
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    if rules.len() > crate::ip::MAX_RULES {
        return Err(Invalid::named(
            "IP rules",
            "a key or owner holds at most 64",
        ));
    }
    Ok(rules)
}

/// A client's address (`verify --ip`, `"ip"`): IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

impl FromStr for ClientIp {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        raw.parse().map(ClientIp).map_err(|_| {
            Invalid::named(
                "address",
                "must be an IPv4 or IPv6 address, such as 203.0.113.7",
            )
        })
    }
}

/// Cost: the uses one VALID verification spends, a whole number from 0 to
/// 1000000000000 (0: a check that the key has uses left, spending none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost(pub u64);

impl Default for Cost {
    fn default() -> Self {
        Cost(1)
    }
}

impl FromStr for Cost {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        match raw.parse::<u64>() {
            Ok(n) if n <= MAX_USES as u64 && raw.bytes().all(|b| b.is_ascii_digit()) => Ok(Cost(n)),
            _ => Err(Invalid::unnamed(
                "cost",
                "must be a whole number of uses from 0 to 1000000000000",
            )),
        }
    }
}

/// Owner: the application's id of a customer, `[A-Za-z0-9][A-Za-z0-9_.:@|+-]{0,127}`:
/// what account ids, e-mail addresses and identity-provider subjects
/// (`auth0|5f1c...`) are made of, and nothing a header, a shell word or a
/// table would have to escape (docs/src/owners.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner(String);

impl FromStr for Owner {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let bytes = raw.as_bytes();
        let ok = !bytes.is_empty()
            && bytes.len() <= MAX_OWNER_LEN
            && bytes[0].is_ascii_alphanumeric()
            && bytes.iter().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(b, b'_' | b'.' | b':' | b'@' | b'|' | b'+' | b'-')
            });
        if !ok {
            return Err(Invalid::named(
                "owner",
                "must be 1 to 128 characters of A-Z, a-z, 0-9, '_', '.', ':', '@', '|', '+' and \
                 '-', starting with a letter or digit",
            ));
        }
        Ok(Owner(raw.to_owned()))
    }
}

/// Metadata: a JSON object of at most 4 KiB, kept compact (whitespace
/// dropped, members sorted by name: serde_json's map).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta(String);

impl FromStr for Meta {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let value: serde_json::Value = serde_json::from_str(raw).map_err(|_| {
            Invalid::named("meta", "must be a JSON object, such as {\"plan\":\"pro\"}")
        })?;
        Meta::from_value(value)
    }
}

impl Meta {
    /// Metadata from a parsed JSON value (a `create --from` field).
    pub fn from_value(value: serde_json::Value) -> Result<Self, Invalid> {
        if !value.is_object() {
            return Err(Invalid::named(
                "meta",
                "must be a JSON object, such as {\"plan\":\"pro\"}",
            ));
        }
        let compact = value.to_string();
        if compact.len() > MAX_META_BYTES {
            return Err(Invalid::named(
                "meta",
                format!(
                    "is {} bytes as compact JSON; at most 4096 (4 KiB) are kept",
                    compact.len()
                ),
            ));
        }
        Ok(Meta(compact))
    }
}

/// A key's scopes: duplicates dropped (first kept), at most 64.
pub fn scopes(given: impl IntoIterator<Item = Scope>) -> Result<Vec<String>, Invalid> {
    let mut scopes: Vec<String> = Vec::new();
    for Scope(s) in given {
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if scopes.len() > MAX_SCOPES {
        return Err(Invalid::named("scopes", "a key holds at most 64 scopes"));
    }
    Ok(scopes)
}

/// A key's own scopes (`scopes`), held to the root keys' rule: a scope of
/// the `keysmith:` namespace is one of `ROOT_SCOPES`, and a key holds
/// either such scopes only (a root key) or none of them, so that no
/// ordinary key is ever half an administrator.
pub fn key_scopes(given: impl IntoIterator<Item = Scope>) -> Result<Vec<String>, Invalid> {
    let scopes = scopes(given)?;
    let mut root = 0;
    for scope in scopes.iter().filter(|s| s.starts_with("keysmith:")) {
        if !ROOT_SCOPES.contains(&scope.as_str()) {
            return Err(Invalid::named(
                "scope",
                format!(
                    "{scope}: the keysmith: namespace is reserved for root keys, whose scopes are {}",
                    ROOT_SCOPES.join(", ")
                ),
            ));
        }
        root += 1;
    }
    if root > 0 && root < scopes.len() {
        return Err(Invalid::named(
            "scopes",
            "a key holds either keysmith: scopes (a root key) or none of them",
        ));
    }
    Ok(scopes)
}

/// An event action, for `history --action` (any case), in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action(String);

impl FromStr for Action {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let wanted = raw.trim().to_ascii_lowercase();
        if crate::model::ACTIONS.contains(&wanted.as_str()) {
            Ok(Action(wanted))
        } else {
            Err(Invalid::unnamed(
                "action",
                format!("must be one of {}", crate::model::ACTIONS.join(", ")),
            ))
        }
    }
}

mod duration;
pub use duration::{Duration, SubsecondDuration};

/// Uses: a whole number from 1 to 10^12.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uses(pub i64);

impl FromStr for Uses {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        match raw.parse::<i64>() {
            Ok(n) if (1..=MAX_USES).contains(&n) && raw.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Uses(n))
            }
            _ => Err(Invalid::unnamed(
                "uses",
                "must be a whole number of uses from 1 to 1000000000000",
            )),
        }
    }
}

/// Rate: `N/DUR`, at most N VALID answers in any window of DUR (`100/1m`);
/// N from 1 to 1,000,000, DUR a duration of at most a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate(pub RateLimit);

impl FromStr for Rate {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let bad = || {
            Invalid::unnamed(
                "rate",
                "use N/DURATION, at most N verifications in any DURATION, such as 100/1m or \
                 5000/1h (N from 1 to 1000000, DURATION at most 1d)",
            )
        };
        let (count, window) = raw.split_once('/').ok_or_else(bad)?;
        let limit = match count.parse::<u32>() {
            Ok(n) if (1..=MAX_RATE).contains(&n) && count.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(bad()),
        };
        let per = window.parse::<Duration>().map_err(|_| bad())?.seconds();
        if per > MAX_RATE_WINDOW {
            return Err(bad());
        }
        Ok(Rate(RateLimit {
            limit,
            per_seconds: per as u32,
        }))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.display())
    }
}

/// `raw` read by rule `T`, as `Error` (for callers outside the command line).
fn checked<T: FromStr<Err = Invalid>>(raw: &str) -> Result<T, Error> {
    raw.parse().map_err(Error::from)
}

/// Name, checked (see `Name`).
pub fn name(raw: &str) -> Result<String, Error> {
    checked::<Name>(raw).map(String::from)
}

/// Description, checked (see `Description`); empty is `None`.
pub fn description(raw: &str) -> Result<Option<String>, Error> {
    checked::<Description>(raw).map(Description::into_text)
}

/// Service, checked (see `Service`).
pub fn service(raw: &str) -> Result<String, Error> {
    checked::<Service>(raw).map(String::from)
}

/// Owner id, checked (see `Owner`).
pub fn owner(raw: &str) -> Result<String, Error> {
    checked::<Owner>(raw).map(String::from)
}

/// Scope, checked (see `Scope`).
pub fn scope(raw: &str) -> Result<String, Error> {
    checked::<Scope>(raw).map(String::from)
}

mod key_line;
pub use key_line::key_line;

#[cfg(test)]
mod tests;

//! The JSON bodies of `POST /v1/verify` and `POST /v1/verify/batch`, read
//! and checked: public for the fuzz target (`fuzz/fuzz_targets/serve_body.rs`)
//! and for applications that take the same requests.
//!
//! A refusal is always a 400 (`BadRequest`), whatever the bytes; its
//! message may quote the body, so it is masked before it is shown
//! (`routes` answers it through `redact`).

use serde::Deserialize;

use crate::input;
use crate::verify::Required;

/// A batch names at most this many keys.
pub const BATCH_KEYS_LIMIT: usize = 10_000;
/// A scope is at most this long; a request names at most this many.
pub const SCOPE_LIMIT: usize = 64;

/// `{"key": "...", "service": "sms", "scopes": ["sms:send"]}`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verify {
    pub key: String,
    pub required: Required,
}

/// `{"keys": [...], "service": ..., "scopes": [...]}`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub keys: Vec<String>,
    pub required: Required,
}

/// Why a body was refused: answered 400 `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    pub message: String,
}

impl BadRequest {
    /// The HTTP status of every refusal here.
    pub const STATUS: u16 = 400;

    fn new(message: impl Into<String>) -> Self {
        BadRequest {
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    key: String,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    cost: Option<u64>,
    /// The client's address, for IP rules (the caller's word: serve's own
    /// peer is the API server).
    #[serde(default)]
    ip: Option<String>,
}

/// A key of a batch: the key alone, or with its own cost.
#[derive(Deserialize)]
#[serde(untagged)]
enum BatchKey {
    Key(String),
    WithCost { key: String, cost: u64 },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    keys: Vec<BatchKey>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    cost: Option<u64>,
    #[serde(default)]
    ip: Option<String>,
}

/// The body of `POST /v1/verify`. The key itself is not judged here (a
/// malformed key is a verdict, not a bad request).
pub fn verify(body: &[u8]) -> Result<Verify, BadRequest> {
    let VerifyBody {
        key,
        service,
        scopes,
        cost,
        ip,
    } = object(body)?;
    Ok(Verify {
        key,
        required: Required {
            cost: checked_cost(cost.unwrap_or(1))?,
            client_ip: client_ip(ip)?,
            ..required(service, scopes)?
        },
    })
}

/// The body of `POST /v1/verify/batch`.
pub fn batch(body: &[u8]) -> Result<Batch, BadRequest> {
    let BatchBody {
        keys,
        service,
        scopes,
        cost,
        ip,
    } = object(body)?;
    if keys.len() > BATCH_KEYS_LIMIT {
        return Err(BadRequest::new(format!(
            "keys: at most {BATCH_KEYS_LIMIT} in one batch"
        )));
    }
    let cost = checked_cost(cost.unwrap_or(1))?;
    let mut costs = Vec::new();
    let keys = keys
        .into_iter()
        .enumerate()
        .map(|(i, key)| match key {
            BatchKey::Key(key) => Ok(key),
            BatchKey::WithCost { key, cost: own } => {
                // Each key before it costs the batch's `cost`.
                costs.resize(i, cost);
                costs.push(checked_cost(own)?);
                Ok(key)
            }
        })
        .collect::<Result<Vec<_>, BadRequest>>()?;
    Ok(Batch {
        keys,
        required: Required {
            cost,
            costs,
            client_ip: client_ip(ip)?,
            ..required(service, scopes)?
        },
    })
}

/// The client's address of a body's `"ip"`, if given.
fn client_ip(ip: Option<String>) -> Result<Option<std::net::IpAddr>, BadRequest> {
    ip.map(|ip| {
        ip.parse::<input::ClientIp>().map(|c| c.0).map_err(|_| {
            BadRequest::new("ip: must be an IPv4 or IPv6 address, such as 203.0.113.7")
        })
    })
    .transpose()
}

/// A cost as the input rule has it (`input::Cost`): at most 10^12.
fn checked_cost(cost: u64) -> Result<u64, BadRequest> {
    if cost > input::MAX_USES as u64 {
        return Err(BadRequest::new(
            "cost: must be a whole number of uses from 0 to 1000000000000",
        ));
    }
    Ok(cost)
}

/// The body as `T`, from a JSON object only: serde would also take a
/// struct from an array of its fields in order (`["key"]`), which is not
/// the request docs/src/serve.md describes (found by the fuzz target).
fn object<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, BadRequest> {
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(BadRequest::new("bad request body: want a JSON object"));
    }
    serde_json::from_slice(body).map_err(|e| bad_json(&e))
}

fn bad_json(e: &serde_json::Error) -> BadRequest {
    // serde_json may quote the value it refused, a key among them: the
    // answer masks it.
    BadRequest::new(format!("bad request body: {e}"))
}

/// What a request requires of its keys, its service and scopes checked
/// (the headers and query of `/v1/auth` included): parsed once, and passed
/// as it is to the verdict.
pub fn required(
    service: Option<String>,
    scopes: Option<Vec<String>>,
) -> Result<Required, BadRequest> {
    let service = service
        .map(|s| input::service(&s))
        .transpose()
        .map_err(|e| BadRequest::new(e.to_string()))?;
    let scopes = scopes.unwrap_or_default();
    if scopes.len() > SCOPE_LIMIT {
        return Err(BadRequest::new("scopes: at most 64 may be required"));
    }
    if let Some(bad) = scopes.iter().find(|s| !is_scope(s)) {
        return Err(BadRequest::new(format!(
            "scopes: '{}' is not a scope (1 to 64 characters of a-z, 0-9, '_', '.', ':' and '-', starting with a letter or digit, optionally ending in ':*')",
            crate::redact::Untrusted(bad)
        )));
    }
    Ok(Required {
        service,
        scopes,
        ..Required::default()
    })
}

/// The scope shape of docs/src/input-rules.md, as `input::scope` checks it everywhere (a
/// required `sms:*` asks for a key granted all of `sms:`).
pub fn is_scope(s: &str) -> bool {
    input::scope(s).is_ok()
}

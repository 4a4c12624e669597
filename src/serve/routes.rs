//! The endpoints of docs/src/serve.md: routing, request bodies and their limits, and
//! the answers. A presented key is parsed here (cheap, and a malformed key
//! never reaches a store thread); everything else goes to the pool.

// A refusal is returned as the answer it is (144 bytes, moved once per
// request): clearer than a second error type mapped back to it.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use crate::error::Error;
use crate::key_format::{self, ParsedKey};
use crate::redact;
use crate::verify::{Code, Required, Verdict, VerdictJson};

use super::access_log::{self, AccessLog, Client, Outcome};
use super::client_ip::ClientAddress;
use super::engine::Engine;
use super::pool::Pool;
use super::request;

/// The largest body of `POST /v1/verify`.
pub const VERIFY_BODY_LIMIT: usize = 64 * 1024;
/// The largest body of `POST /v1/verify/batch`.
pub const BATCH_BODY_LIMIT: usize = 8 * 1024 * 1024;
/// A body must arrive within this long once its headers have.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// RFC 3986's unreserved characters stay; everything else is encoded.
const NAME_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub struct State {
    pub engine: Arc<Engine>,
    pub pool: Pool,
    /// The headers a key is taken from, in order (`--key-header`).
    pub key_headers: Vec<HeaderName>,
    /// `--access-log`, when asked for.
    pub access_log: Option<AccessLog>,
    /// `--meta-header`.
    pub meta_header: bool,
    /// Who a `/v1/auth` request's client is.
    pub client_address: ClientAddress,
    last_logged: AtomicU64,
}

impl State {
    pub fn new(
        engine: Arc<Engine>,
        pool: Pool,
        key_headers: Vec<HeaderName>,
        access_log: Option<AccessLog>,
        meta_header: bool,
        client_address: ClientAddress,
    ) -> State {
        State {
            engine,
            pool,
            key_headers,
            access_log,
            meta_header,
            client_address,
            last_logged: AtomicU64::new(0),
        }
    }

    /// Notes `verdict` on its answer for the access log (nothing when
    /// there is none).
    fn note(&self, r: &mut Answer, verdict: &Verdict) {
        if self.access_log.is_some() {
            r.extensions_mut().insert(Outcome {
                code: verdict.code.as_str(),
                key_id: verdict.key.as_ref().map(|k| k.id.clone()),
            });
        }
    }

    /// Hands the request's line to the access log, if there is one.
    fn log(&self, answer: &Answer, asked: Option<Asked>, client: Client, started: Instant) {
        let (Some(log), Some(asked)) = (&self.access_log, asked) else {
            return;
        };
        let outcome = answer.extensions().get::<Outcome>();
        let entry = access_log::Entry {
            time: asked.time,
            client,
            method: asked.method,
            target: asked.target,
            status: answer.status().as_u16(),
            code: outcome.map(|o| o.code),
            key_id: outcome.and_then(|o| o.key_id.clone()),
            latency: started.elapsed(),
        };
        if !log.record(entry) {
            self.engine.metrics.access_log_dropped.fetch_add(1, Relaxed);
        }
    }

    /// A store failure: counted, logged (at most once a second, masked),
    /// and answered 503 without its detail.
    fn store_failed(&self, e: &Error) -> Response<Full<Bytes>> {
        self.engine.metrics.store_errors.fetch_add(1, Relaxed);
        let now = crate::time::now() as u64;
        if self.last_logged.swap(now, Relaxed) != now {
            let text = redact::mask_passwords_in(&e.to_string());
            eprintln!("keysmith serve: store error: {}", redact::Untrusted(&text));
        }
        error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable")
    }
}

type Answer = Response<Full<Bytes>>;

/// What a handler gives: its answer, or the refusal that takes its place
/// (a 4xx, a 503), so that a refusal is passed on with `?`.
type Answered = Result<Answer, Answer>;

/// What the access log keeps of a request before it is consumed.
struct Asked {
    time: std::time::SystemTime,
    method: Method,
    target: String,
}

pub async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
    client: Client,
) -> Result<Answer, Infallible> {
    // The request's arrival, for freshness: taken before anything else.
    let ticket = state.engine.ticket();
    let started = Instant::now();
    let asked = state.access_log.as_ref().map(|_| Asked {
        time: std::time::SystemTime::now(),
        method: req.method().clone(),
        target: req.uri().to_string(),
    });
    let answer = route(req, &state, client, ticket, started)
        .await
        .unwrap_or_else(|refused| refused);
    state.log(&answer, asked, client, started);
    Ok(answer)
}

async fn route(
    req: Request<Incoming>,
    state: &State,
    client: Client,
    ticket: u64,
    started: Instant,
) -> Answered {
    let path = req.uri().path();
    match path {
        "/healthz" => {
            only(&req, &[Method::GET, Method::HEAD], "GET, HEAD")?;
            healthz(state, ticket).await
        }
        "/metrics" => {
            only(&req, &[Method::GET, Method::HEAD], "GET, HEAD")?;
            let mut r = Response::new(Full::new(Bytes::from(state.engine.metrics.render())));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            Ok(r)
        }
        "/v1/verify" => {
            only(&req, &[Method::POST], "POST")?;
            verify_one(req, state, ticket, started).await
        }
        "/v1/verify/batch" => {
            only(&req, &[Method::POST], "POST")?;
            verify_batch(req, state, ticket, started).await
        }
        p if p == "/v1/auth" || p.starts_with("/v1/auth/") => {
            auth(req, state, client, ticket, started).await
        }
        _ => Err(error(StatusCode::NOT_FOUND, "no such endpoint")),
    }
}

/// The 405 answer unless the method is one of `allowed`.
fn only(req: &Request<Incoming>, allowed: &[Method], allow: &'static str) -> Result<(), Answer> {
    if allowed.contains(req.method()) {
        return Ok(());
    }
    let mut r = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    Err(r)
}

/// `/healthz`: the store answers, after a freshness check.
async fn healthz(state: &State, ticket: u64) -> Answered {
    state.pool.health(ticket).await.map_err(|e| {
        let _ = state.store_failed(&e);
        text(StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
    })?;
    Ok(text(StatusCode::OK, "ok\n"))
}

fn text(status: StatusCode, body: &'static str) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn json(status: StatusCode, value: &impl Serialize) -> Answer {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// `{"error": message}`; the message is masked, whatever it quotes.
fn error(status: StatusCode, message: &str) -> Answer {
    #[derive(Serialize)]
    struct Body<'a> {
        error: &'a str,
    }
    let masked = redact::redact(message);
    json(status, &Body { error: &masked })
}

/// The body, at most `limit` bytes, or the answer that refuses it.
async fn body(req: Request<Incoming>, limit: usize) -> Result<Bytes, Answer> {
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the body is over {} KiB", limit / 1024),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let read = Limited::new(req.into_body(), limit).collect();
    match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Err(_) => Err(error(
            StatusCode::REQUEST_TIMEOUT,
            "the body did not arrive in time",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(error(StatusCode::BAD_REQUEST, "the body could not be read")),
    }
}

/// A refused body or question: 400 `{"error": ...}`, masked.
fn bad(refused: request::BadRequest) -> Answer {
    error(StatusCode::BAD_REQUEST, &refused.message)
}

/// Judges `presented`: malformed keys here, the others on the pool. Each
/// key is taken without the whitespace around it, as `keysmith verify`
/// takes one (a key read from a file with its newline).
async fn judge_all(
    state: &State,
    ticket: u64,
    presented: &[&str],
    required: Required,
) -> Result<Vec<Verdict>, Answer> {
    let parsed: Vec<Option<ParsedKey>> = presented
        .iter()
        .map(|k| key_format::parse(k.trim()))
        .collect();
    let wellformed: Vec<ParsedKey> = parsed.iter().flatten().cloned().collect();
    let mut judged = if wellformed.is_empty() {
        Vec::new()
    } else {
        state
            .pool
            .verify(ticket, wellformed, required)
            .await
            .map_err(|e| state.store_failed(&e))?
    }
    .into_iter();
    // The engine counted the others' verdicts in the metrics.
    let verdicts: Vec<Verdict> = parsed
        .iter()
        .map(|p| match p {
            Some(_) => judged.next().expect("one verdict per well-formed key"),
            None => {
                state.engine.metrics.verified(Code::Malformed);
                Verdict::new(Code::Malformed, None)
            }
        })
        .collect();
    Ok(verdicts)
}

async fn verify_one(
    req: Request<Incoming>,
    state: &State,
    ticket: u64,
    started: Instant,
) -> Answered {
    let bytes = body(req, VERIFY_BODY_LIMIT).await?;
    let request::Verify { key, required } = request::verify(&bytes).map_err(bad)?;
    let verdicts = judge_all(state, ticket, &[&key], required).await?;
    state.engine.metrics.took(started.elapsed());
    let mut r = json(
        StatusCode::OK,
        &VerdictJson::new(&verdicts[0]).with_key_details(),
    );
    retry_after(&mut r, &verdicts[0]);
    state.note(&mut r, &verdicts[0]);
    Ok(r)
}

async fn verify_batch(
    req: Request<Incoming>,
    state: &State,
    ticket: u64,
    started: Instant,
) -> Answered {
    let bytes = body(req, BATCH_BODY_LIMIT).await?;
    let request::Batch { keys, required } = request::batch(&bytes).map_err(bad)?;
    let presented: Vec<&str> = keys.iter().map(String::as_str).collect();
    let verdicts = judge_all(state, ticket, &presented, required).await?;
    state.engine.metrics.took(started.elapsed());
    #[derive(Serialize)]
    struct Results<'a> {
        results: Vec<VerdictJson<'a>>,
    }
    Ok(json(
        StatusCode::OK,
        &Results {
            results: verdicts
                .iter()
                .map(|v| VerdictJson::new(v).with_key_details())
                .collect(),
        },
    ))
}

/// The key a request presents: `Authorization: Bearer <key>`, else the
/// next header named by `--key-header`. A header that is not UTF-8 (or
/// visible ASCII) presents an empty key: MALFORMED. `None`: no key at all.
fn presented_key(req: &Request<Incoming>, names: &[HeaderName]) -> Option<String> {
    for name in names {
        let Some(value) = req.headers().get(name) else {
            continue;
        };
        let Ok(value) = value.to_str() else {
            return Some(String::new());
        };
        let value = value.trim();
        if *name == header::AUTHORIZATION {
            match value.split_once(' ') {
                Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
                    return Some(rest.trim().to_owned());
                }
                // Another scheme (Basic...): not ours; try the next header.
                _ => continue,
            }
        }
        return Some(value.to_owned());
    }
    None
}

/// The service asked for: `X-Keysmith-Service`, else `?service=`. An
/// empty header counts as none: it must not switch off a service that
/// `?service=` asks for (a gateway that sets the header from a variable
/// that happens to be empty).
fn asked_service(req: &Request<Incoming>) -> Result<Option<String>, Answer> {
    let bad = || error(StatusCode::BAD_REQUEST, "the service is not valid UTF-8");
    if let Some(value) = req.headers().get("x-keysmith-service") {
        let value = value.to_str().map_err(|_| bad())?.trim();
        if !value.is_empty() {
            return Ok(Some(value.to_owned()));
        }
    }
    let query = req.uri().query().unwrap_or("");
    // The first `service` of the query, form-decoded (`+` is a space).
    let Some((_, value)) =
        form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "service")
    else {
        return Ok(None);
    };
    // The decoder replaces bytes that are not UTF-8 with U+FFFD, which no
    // service holds (docs/src/input-rules.md): answered as a header that is
    // not UTF-8 is.
    if value.contains(char::REPLACEMENT_CHARACTER) {
        return Err(bad());
    }
    Ok((!value.is_empty()).then(|| value.into_owned()))
}

/// The required scopes: `X-Keysmith-Scopes`, comma-separated.
fn asked_scopes(req: &Request<Incoming>) -> Result<Option<Vec<String>>, Answer> {
    let Some(value) = req.headers().get("x-keysmith-scopes") else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| error(StatusCode::BAD_REQUEST, "the scopes are not valid UTF-8"))?;
    Ok(Some(
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    ))
}

/// The cost of a `/v1/auth` request: the first `cost` of the auth URI's
/// query, which the gateway's configuration sets (docs/src/owners.md), 1
/// without one. Never from a header, which a client could send; and never
/// 0, which would let every request through without spending a use.
fn asked_cost(req: &Request<Incoming>) -> Result<u64, Answer> {
    let query = req.uri().query().unwrap_or("");
    let Some((_, value)) =
        form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "cost")
    else {
        return Ok(1);
    };
    match value.parse::<crate::input::Cost>() {
        Ok(crate::input::Cost(0)) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid cost: /v1/auth spends at least 1 use (cost=0 is refused)",
        )),
        Ok(cost) => Ok(cost.0),
        Err(e) => Err(error(StatusCode::BAD_REQUEST, &e.to_string())),
    }
}

/// What `/v1/auth` requires of its key: the service of `asked_service`,
/// the scopes of `asked_scopes`, checked as a body's are, and the cost of
/// `asked_cost`.
fn asked_required(req: &Request<Incoming>) -> Result<Required, Answer> {
    let service = asked_service(req)?;
    let scopes = asked_scopes(req)?;
    let cost = asked_cost(req)?;
    let required = request::required(service, scopes).map_err(bad)?;
    Ok(Required { cost, ..required })
}

/// `/v1/auth`: the contract of nginx `auth_request`, Traefik ForwardAuth,
/// Caddy `forward_auth` and Envoy `ext_authz`: exactly 200 allows.
async fn auth(
    req: Request<Incoming>,
    state: &State,
    client: Client,
    ticket: u64,
    started: Instant,
) -> Answered {
    let mut required = asked_required(&req)?;
    required.client_ip = state.client_address.of(client, req.headers());
    // No key at all answers as an empty one: MALFORMED, 401.
    let presented = presented_key(&req, &state.key_headers).unwrap_or_default();
    drop(req);
    let verdict = judge_all(state, ticket, &[&presented], required)
        .await?
        .remove(0);
    state.engine.metrics.took(started.elapsed());
    let code = verdict.code.as_str();
    if let (true, Some(key)) = (verdict.is_valid(), verdict.key.as_ref()) {
        let mut r = Response::new(Full::new(Bytes::new()));
        let h = r.headers_mut();
        h.insert("x-keysmith-code", HeaderValue::from_static("VALID"));
        if let Ok(id) = HeaderValue::from_str(&key.id) {
            h.insert("x-keysmith-key-id", id);
        }
        let name = utf8_percent_encode(&key.name, NAME_ENCODE).to_string();
        if let Ok(name) = HeaderValue::from_str(&name) {
            h.insert("x-keysmith-key-name", name);
        }
        if let Some(Ok(service)) = key.service.as_deref().map(HeaderValue::from_str) {
            h.insert("x-keysmith-service", service);
        }
        // Sent empty when the key has none (docs/src/gateways.md): Caddy's
        // copy_headers passes a header missing from this answer on as its
        // placeholder's text. An owner id is header-safe by its rule
        // (`input::Owner`), metadata by `ascii_json`.
        let owner = key.owner.as_deref().map(HeaderValue::from_str);
        h.insert(
            "x-keysmith-owner",
            owner
                .and_then(Result::ok)
                .unwrap_or(HeaderValue::from_static("")),
        );
        if state.meta_header {
            let meta = key
                .meta
                .as_deref()
                .map(|m| HeaderValue::from_str(&ascii_json(m)));
            h.insert(
                "x-keysmith-meta",
                meta.and_then(Result::ok)
                    .unwrap_or(HeaderValue::from_static("")),
            );
        }
        state.note(&mut r, &verdict);
        return Ok(r);
    }
    #[derive(Serialize)]
    struct Denied {
        valid: bool,
        code: &'static str,
    }
    let status = match verdict.code {
        Code::Malformed | Code::NotFound => StatusCode::UNAUTHORIZED,
        Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::FORBIDDEN,
    };
    let mut r = json(status, &Denied { valid: false, code });
    retry_after(&mut r, &verdict);
    state.note(&mut r, &verdict);
    let h = r.headers_mut();
    h.insert("x-keysmith-code", HeaderValue::from_static(code));
    if status == StatusCode::UNAUTHORIZED {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"keysmith\""),
        );
    }
    Ok(r)
}

/// Compact JSON as one header value: every character past ASCII written as
/// its `\\u` escape (a header value is visible ASCII), which only strings
/// hold, so the value is the same JSON. At most three times the 4 KiB of
/// stored metadata: an emoji (4 bytes) is 12 (`\\ud83d\\ude00`).
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// `Retry-After` on a RATE_LIMITED answer: whole seconds, rounded up, at
/// least 1 (a client that retries at once would only be refused again).
fn retry_after(r: &mut Answer, verdict: &Verdict) {
    if let Some(wait) = verdict.retry_after {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
}

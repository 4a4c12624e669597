//! Everything printed: stdout carries data (keys, tables, JSON), stderr carries
//! talk. Colour is decided once, here.

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

use crate::error::{Error, Failure, Result};
use crate::key_format::SecretKey;
use crate::pager::Sink;
use crate::redact::Untrusted;
use crate::store::{Event, KeyRecord, Limits, OwnerRecord, RateLimit, Timestamp};
use crate::time::{self, Rfc3339};
use crate::verify::MetaJson;

pub struct Output {
    pub json: bool,
    color: bool,
    /// `--no-pager`: human output is never paged.
    no_pager: bool,
    out: io::BufWriter<Sink>,
    /// Made when new keys are first delivered (see `deliver`).
    raw: Option<std::fs::File>,
}

impl Output {
    pub fn new(json: bool, no_pager: bool) -> Self {
        let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Output {
            json,
            color,
            no_pager,
            // Bulk commands print hundreds of megabytes: fewer, larger writes.
            out: io::BufWriter::with_capacity(1 << 16, Sink::Stdout(io::stdout())),
            raw: None,
        }
    }

    /// Writes one line of data to stdout.
    pub fn line(&mut self, text: &str) -> Result<()> {
        writeln!(self.out, "{text}").map_err(Error::output)
    }

    /// Writes one line of words joined by spaces, with no string made for it.
    pub fn words(&mut self, words: &[&str]) -> Result<()> {
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b" ").map_err(Error::output)?;
            }
            self.out.write_all(word.as_bytes()).map_err(Error::output)?;
        }
        self.out.write_all(b"\n").map_err(Error::output)
    }

    /// Writes one compact JSON document (or JSON Lines record) to stdout.
    pub fn json_line<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        serde_json::to_writer(&mut self.out, value).map_err(|e| Error::output(e.into()))?;
        self.out.write_all(b"\n").map_err(Error::output)
    }

    /// Streams element `index` of a JSON array, one element per line, so a
    /// listing of any size is written as it is read. Close with `array_end`.
    pub fn array_element<T: Serialize>(&mut self, index: u64, value: &T) -> Result<()> {
        let opening: &[u8] = if index == 0 { b"[\n" } else { b",\n" };
        self.out.write_all(opening).map_err(Error::output)?;
        serde_json::to_writer(&mut self.out, value).map_err(|e| Error::output(e.into()))
    }

    /// `array_element` for a key object, written by `KeyJson::write_to`.
    pub fn key_element(&mut self, index: u64, key: &KeyJson<'_>) -> Result<()> {
        let opening: &[u8] = if index == 0 { b"[\n" } else { b",\n" };
        self.out.write_all(opening).map_err(Error::output)?;
        key.write_to(&mut self.out).map_err(Error::output)
    }

    pub fn array_end(&mut self, count: u64) -> Result<()> {
        let closing: &[u8] = if count == 0 { b"[]\n" } else { b"\n]\n" };
        self.out.write_all(closing).map_err(Error::output)
    }

    /// Writes out what is buffered; output being paged ends here (see
    /// `page`), so that what follows, on stderr too, comes after it.
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(Error::output)?;
        self.out.get_mut().finish().map_err(Error::output)
    }

    /// Human output from here on goes through a pager if it does not fit
    /// the screen (see `pager`): only at a terminal, and not with
    /// `--no-pager` or `--json`.
    pub fn page(&mut self) -> Result<()> {
        if self.json || self.no_pager || !io::stdout().is_terminal() {
            return Ok(());
        }
        self.out.flush().map_err(Error::output)?;
        let (columns, rows) = terminal_size::terminal_size()
            .map_or((80, 24), |(w, h)| (usize::from(w.0), usize::from(h.0)));
        *self.out.get_mut() = Sink::paged((columns, if rows == 0 { 24 } else { rows }));
        Ok(())
    }

    /// Where a table is drawn.
    pub(crate) fn writer(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    /// Writes `bytes` (new keys) to stdout past every buffer, so that what
    /// is counted as written did reach the file, pipe or terminal. Returns
    /// how many bytes got there, and the error that stopped the rest.
    pub fn deliver(&mut self, bytes: &[u8]) -> (usize, Option<io::Error>) {
        if let Err(e) = self.out.flush() {
            return (0, Some(e));
        }
        let mut written = 0;
        while written < bytes.len() {
            match self
                .raw_stdout()
                .and_then(|out| out.write(&bytes[written..]))
            {
                Ok(0) => return (written, Some(io::ErrorKind::WriteZero.into())),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (written, Some(e)),
            }
        }
        (written, None)
    }

    /// With stdout closed or sent to `/dev/null`, a new key would reach
    /// nobody: refused before anything is written.
    pub fn refuse_unread_stdout(&mut self) -> Result<()> {
        if self.stdout_reaches_nobody() {
            return Err(Error::failed(
                Failure::Delivery,
                "stdout is closed or /dev/null, so a new key would reach nobody; nothing was \
                 created. Send stdout to a file or a pipe",
            ));
        }
        Ok(())
    }

    /// Whether what is written to stdout reaches nobody: it is `/dev/null`,
    /// because a shell or a service manager sent it there, or because stdout
    /// was closed at the start (Rust's runtime then opens `/dev/null` in its
    /// place, and the two cannot be told apart).
    pub fn stdout_reaches_nobody(&mut self) -> bool {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let Ok(out) = self.raw_stdout() else {
            return true;
        };
        // The null device's number differs between systems: ask it.
        let device = |m: &std::fs::Metadata| m.file_type().is_char_device().then(|| m.rdev());
        let null = std::fs::metadata("/dev/null")
            .ok()
            .as_ref()
            .and_then(device);
        null.is_some() && out.metadata().ok().as_ref().and_then(device) == null
    }

    /// stdout without std's line buffer: a descriptor of its own for the
    /// same open file.
    fn raw_stdout(&mut self) -> io::Result<&mut std::fs::File> {
        use std::os::fd::AsFd;
        if self.raw.is_none() {
            let fd = io::stdout().as_fd().try_clone_to_owned()?;
            self.raw = Some(std::fs::File::from(fd));
        }
        Ok(self.raw.as_mut().expect("just set"))
    }

    /// A message on stderr after the data already written, so that on a
    /// terminal the two appear in the order they were produced.
    pub fn notice(&mut self, text: &str) -> Result<()> {
        self.flush()?;
        notice(text);
        Ok(())
    }

    /// The terminal's width when stdout is one: tables are fitted to it
    /// (docs/src/commands/list.md); piped, `None`: nothing is shortened.
    pub fn fit(&self) -> Option<usize> {
        io::stdout()
            .is_terminal()
            .then(|| terminal_size::terminal_size().map_or(80, |(w, _)| usize::from(w.0)))
    }

    /// Whether tables are coloured (a terminal, without `NO_COLOR`).
    pub fn color(&self) -> bool {
        self.color
    }

    /// How `list` draws its table here.
    pub fn table_layout(&self, wide: bool) -> crate::table::key_rows::Layout {
        crate::table::key_rows::Layout {
            wide,
            fit: self.fit(),
            color: self.color,
        }
    }
}

impl Output {
    /// Prints every field of a key, one per line, for `show`.
    pub fn key_details(&mut self, key: &KeyRecord, now: Timestamp) -> Result<()> {
        let optional = |v: &Option<String>| Untrusted::or(v.as_deref(), "-").to_string();
        let when = |t: Option<Timestamp>| t.map_or("never".to_owned(), time::local_minutes);
        let rows = [
            ("ID", Untrusted(&key.id).to_string()),
            ("Name", Untrusted(&key.name).to_string()),
            ("Description", optional(&key.description)),
            ("Service", optional(&key.service)),
            ("Prefix", Untrusted(&key.prefix).to_string()),
            ("Key", Untrusted(&key.masked()).to_string()),
            ("Status", key.status(now).as_str().to_owned()),
            ("Created", time::local_minutes(key.created_at)),
            ("Last used", when(key.last_used_at)),
            ("Use count", key.use_count.to_string()),
            ("Expires", when(key.expires_at)),
            ("Rotated from", optional(&key.rotated_from)),
            ("Replaced by", optional(&key.replaced_by)),
        ];
        let [scopes, uses, rate] = limit_words(&key.limits, now);
        let rows = rows.into_iter().chain([
            ("Scopes", Untrusted(&scopes).to_string()),
            ("Uses left", uses),
            ("Refill", refill_words(&key.limits, now)),
            ("Allowed IPs", ip_words(&key.limits)),
            ("Rate limit", rate),
            ("Owner", optional(&key.owner)),
            ("Metadata", meta_line(key.meta.as_deref())),
        ]);
        for (label, value) in rows {
            writeln!(self.out, "{label:<13} {value}").map_err(Error::output)?;
        }
        Ok(())
    }
}

/// Metadata on one line of `show`: the compact JSON, cut at 100
/// characters (`show --json` has it whole).
fn meta_line(meta: Option<&str>) -> String {
    const SHOWN: usize = 100;
    match meta {
        None => "-".to_owned(),
        Some(text) if text.chars().count() <= SHOWN => Untrusted(text).to_string(),
        Some(text) => {
            let cut: String = text.chars().take(SHOWN - 1).collect();
            format!("{}…", Untrusted(&cut))
        }
    }
}

/// IP rules in words, for `show` and `owner show`: `any`, or the ranges.
pub fn ip_words(limits: &Limits) -> String {
    if limits.allow_ip.is_empty() {
        return "any".to_owned();
    }
    limits
        .allow_ip
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A refill in words, for `show` and `owner show`: `monthly on day 1: back
/// to 10000, next 2027-01-01 00:00`, or `-`.
pub fn refill_words(limits: &Limits, now: Timestamp) -> String {
    limits.refill.map_or("-".to_owned(), |r| {
        format!(
            "{}: back to {}, next {}",
            r.every.words(),
            r.uses,
            time::local_minutes(r.next_at(now))
        )
    })
}

/// A key's limits as a table shows them: its scopes (comma-separated, `-`
/// for none), uses left (`unlimited`) and rate limit (`100/1m`, `-`).
fn limit_words(limits: &Limits, now: Timestamp) -> [String; 3] {
    [
        if limits.scopes.is_empty() {
            "-".to_owned()
        } else {
            limits.scopes.join(",")
        },
        limits
            .uses_left_at(now)
            .map_or("unlimited".to_owned(), |n| n.to_string()),
        limits.rate.map_or("-".to_owned(), RateLimit::display),
    ]
}

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

/// Prints a message for the person at the terminal (stderr, never data),
/// as `Untrusted` text: whatever it quotes, no key and no control reaches the
/// terminal.
pub fn notice(text: &str) {
    eprintln!("{}", Untrusted(text));
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

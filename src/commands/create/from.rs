//! `keysmith create --from`: many keys from JSON Lines, in one transaction.
//!
//! The whole input is read and checked before the store is touched, so a
//! slow producer holds no lock and a bad line writes nothing: the checked
//! keys wait in a spool (memory, then a temporary file past a few MiB).
//!
//! Keys are shown only after the commit (`lifecycle::create_many`, which keeps
//! memory bounded however long the input); keys that could not be written
//! out are taken back (docs/src/security.md).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Seek, Write};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use tempfile::SpooledTempFile;
use zeroize::Zeroizing;

use crate::commands::{Context, change};
use crate::error::{Error, Failure, Result, StoreFault};
use crate::input::{self, MAX_LINE, Prefix};
use crate::key_format::{ID_LEN, MintedKey};
use crate::lifecycle;
use crate::model::{KeyRecord, Limits, NewKey, RateLimit};
use crate::output::{KeyJson, Output, notice};
use crate::redact::Untrusted;
use crate::store::{KeyFilter, OpenMode, Store};
use crate::time;

/// Checked keys are held in memory up to this size, then in a temporary file.
const SPOOL_IN_MEMORY: usize = 8 << 20;
/// New keys are written out in chunks of about this size.
const OUTPUT_CHUNK: usize = 1 << 16;

pub fn run(ctx: &mut Context, source: &Path, default_prefix: &Prefix) -> Result<u8> {
    ctx.out.refuse_unread_stdout()?;
    let (reader, size) = open_source(source)?;
    let progress = progress_bar(size);
    let mut names = Namesakes::default();
    let (mut spool, total) = spool_checked(reader, default_prefix, &progress, &mut names)?;
    progress.finish_and_clear();

    let mut store = ctx.open(OpenMode::Create)?;
    names.warn(&mut ctx.out, store.as_mut())?;
    let now = time::now();
    let mut left = total;
    let mut next = || -> Result<Option<NewKey>> {
        if left == 0 {
            return Ok(None);
        }
        left -= 1;
        spool.next().map(Some)
    };
    let mut delivery = Delivery::new(&mut ctx.out);
    let mut committed = |record: &KeyRecord, minted: &MintedKey| -> Result<()> {
        delivery.add(
            record,
            &KeyJson::new(record, now).with_secret(&minted.secret),
        )
    };
    let count = lifecycle::create_many(store.as_mut(), &mut next, change(now), &mut committed)?;
    delivery.finish()?;
    let Delivery {
        delivered,
        undelivered,
        failure,
        ..
    } = delivery;
    if let Some(failure) = failure {
        let ids: Vec<&str> = undelivered
            .iter()
            .map(|id| std::str::from_utf8(id).unwrap_or_default())
            .collect();
        let done = match lifecycle::take_back(store.as_mut(), &ids, None, change(time::now())) {
            Ok(n) => format!(
                "{delivered} {} written out before that and stay{}; the other {n} were removed, \
                 as nobody received them",
                keys(delivered),
                if delivered == 1 { "s" } else { "" }
            ),
            Err(e) => format!(
                "{delivered} {} written out and stay; removing the other {} failed too ({e}): \
                 find them with `keysmith list` and switch them off",
                keys(delivered),
                ids.len()
            ),
        };
        return Err(Error::Undelivered(format!(
            "cannot write the new keys: {failure}; {done}"
        )));
    }
    ctx.out.notice(&format!(
        "Created {count} {}. This is the only time the full keys are shown: store them now.",
        keys(count)
    ))?;
    Ok(0)
}

fn keys(n: u64) -> &'static str {
    if n == 1 { "key" } else { "keys" }
}

/// Writes new keys out in chunks, counting the keys whose whole line got
/// out; once a write fails, it keeps the ids of every key not delivered.
struct Delivery<'o> {
    out: &'o mut Output,
    chunk: Zeroizing<Vec<u8>>,
    /// For each key in `chunk`: its id and where its line ends.
    pending: Vec<([u8; ID_LEN], usize)>,
    delivered: u64,
    undelivered: Vec<[u8; ID_LEN]>,
    failure: Option<io::Error>,
}

impl<'o> Delivery<'o> {
    fn new(out: &'o mut Output) -> Self {
        Delivery {
            out,
            chunk: Zeroizing::new(Vec::with_capacity(OUTPUT_CHUNK + (OUTPUT_CHUNK >> 2))),
            pending: Vec::new(),
            delivered: 0,
            undelivered: Vec::new(),
            failure: None,
        }
    }

    fn add(&mut self, record: &KeyRecord, line: &KeyJson<'_>) -> Result<()> {
        let id = id_bytes(&record.id)?;
        if self.failure.is_some() {
            self.undelivered.push(id);
            return Ok(());
        }
        line.write_to(&mut *self.chunk).map_err(Error::output)?;
        self.chunk.push(b'\n');
        self.pending.push((id, self.chunk.len()));
        if self.chunk.len() >= OUTPUT_CHUNK {
            self.finish()?;
        }
        Ok(())
    }

    /// Writes out what is pending.
    fn finish(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let (written, failure) = self.out.deliver(&self.chunk);
        for (id, end) in self.pending.drain(..) {
            if end <= written {
                self.delivered += 1;
            } else {
                self.undelivered.push(id);
            }
        }
        self.chunk.clear();
        self.failure = failure;
        Ok(())
    }
}

/// Names the input shares with other lines or with stored keys: each
/// draws a warning (docs/src/conventions.md: a shared name cannot select a key), the
/// first `SHOWN` of them by line, then a count. Names are kept as hashes,
/// a few bytes a line however long the input.
#[derive(Default)]
struct Namesakes {
    /// The line each name first appears on, by the name's hash.
    first_line: HashMap<u64, u64>,
    /// What was found, to be shown in `warn`.
    notes: Vec<String>,
    more: u64,
}

impl Namesakes {
    const SHOWN: usize = 10;

    fn hash(name: &str) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(name)
    }

    fn note(&mut self, note: String) {
        if self.notes.len() < Self::SHOWN {
            self.notes.push(note);
        } else {
            self.more += 1;
        }
    }

    fn add(&mut self, name: &str, line: u64) {
        let first = *self.first_line.entry(Self::hash(name)).or_insert(line);
        if first != line {
            self.note(format!(
                "line {line}: the name \"{}\" is also on line {first}; select keys of a shared \
                 name by id",
                Untrusted(name)
            ));
        }
    }

    /// Adds the stored keys named as a line is (one pass over the keys),
    /// then shows every warning.
    fn warn(mut self, out: &mut Output, store: &mut dyn Store) -> Result<()> {
        let mut taken: Vec<(u64, String, Vec<String>)> = Vec::new();
        if !self.first_line.is_empty() {
            let filter = KeyFilter {
                now: time::now(),
                ..KeyFilter::default()
            };
            let mut by_hash: HashMap<u64, usize> = HashMap::new();
            store.list_keys(&filter, &mut |key| {
                let hash = Self::hash(&key.name);
                if let Some(&line) = self.first_line.get(&hash) {
                    let at = *by_hash.entry(hash).or_insert_with(|| {
                        taken.push((line, key.name.clone(), Vec::new()));
                        taken.len() - 1
                    });
                    taken[at].2.push(key.id.clone());
                }
                Ok(())
            })?;
        }
        taken.sort_by_key(|(line, _, _)| *line);
        for (line, name, ids) in &taken {
            let note = super::namesakes_note(name, ids.iter().map(String::as_str));
            self.note(format!("line {line}: {note}"));
        }
        for note in &self.notes {
            out.notice(&format!("warning: {note}"))?;
        }
        if self.more > 0 {
            out.notice(&format!(
                "warning: and {} more lines share a name with another line or key",
                self.more
            ))?;
        }
        Ok(())
    }
}

fn id_bytes(id: &str) -> Result<[u8; ID_LEN]> {
    id.as_bytes().try_into().map_err(|_| {
        Error::store(
            StoreFault::Damaged,
            "internal error: a stored key id has the wrong length",
        )
    })
}

/// Reads and checks every line of `reader` into a spool, before any store
/// is opened; returns the spool, rewound, and how many keys it holds.
fn spool_checked(
    mut reader: Box<dyn BufRead>,
    default_prefix: &Prefix,
    progress: &ProgressBar,
    names: &mut Namesakes,
) -> Result<(Spool, u64)> {
    let mut spool = BufWriter::with_capacity(1 << 16, tempfile::spooled_tempfile(SPOOL_IN_MEMORY));
    let spool_failed = |e: io::Error| Error::Io {
        context: "cannot hold the input in a temporary file",
        source: e,
    };
    let mut buf = Vec::new();
    let mut line_number = 0u64;
    let mut total = 0u64;
    loop {
        buf.clear();
        let read = (&mut reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut buf)
            .map_err(Error::input)?;
        if read == 0 {
            break;
        }
        line_number += 1;
        progress.inc(read as u64);
        let at_line = |e: Error| Error::Usage(format!("line {line_number}: {e}"));
        if let Some(spec) = input::key_line(&buf, default_prefix).map_err(at_line)? {
            names.add(&spec.name, line_number);
            encode(&mut spool, &spec).map_err(spool_failed)?;
            total += 1;
        }
    }
    let mut file = spool
        .into_inner()
        .map_err(|e| spool_failed(e.into_error()))?;
    file.rewind().map_err(spool_failed)?;
    Ok((
        Spool {
            reader: BufReader::with_capacity(1 << 16, file),
        },
        total,
    ))
}

/// Checked keys, read back in order inside the write transaction.
struct Spool {
    reader: BufReader<SpooledTempFile>,
}

impl Spool {
    fn next(&mut self) -> Result<NewKey> {
        decode(&mut self.reader).map_err(|e| Error::Io {
            context: "cannot read back the input from its temporary file",
            source: e,
        })
    }
}

/// A spooled key: each text as its length (4 bytes, little-endian) and its
/// bytes, an optional field behind one byte saying whether it is there.
fn encode(w: &mut impl Write, spec: &NewKey) -> io::Result<()> {
    fn text(w: &mut impl Write, s: &str) -> io::Result<()> {
        let len = u32::try_from(s.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        w.write_all(&len.to_le_bytes())?;
        w.write_all(s.as_bytes())
    }
    fn optional(w: &mut impl Write, s: Option<&str>) -> io::Result<()> {
        match s {
            None => w.write_all(&[0]),
            Some(s) => {
                w.write_all(&[1])?;
                text(w, s)
            }
        }
    }
    text(w, &spec.name)?;
    optional(w, spec.description.as_deref())?;
    optional(w, spec.service.as_deref())?;
    text(w, &spec.prefix)?;
    number(w, spec.expires_in)?;
    let limits = &spec.limits;
    w.write_all(&(limits.scopes.len() as u32).to_le_bytes())?;
    for scope in &limits.scopes {
        text(w, scope)?;
    }
    number(w, limits.remaining_uses)?;
    number(
        w,
        limits
            .rate
            .map(|r| (i64::from(r.limit) << 32) | i64::from(r.per_seconds)),
    )?;
    let (every, uses, at) = crate::refill::columns(limits.refill);
    optional(w, every.as_deref())?;
    number(w, uses)?;
    number(w, at)?;
    optional(w, crate::ip::stored(&limits.allow_ip).as_deref())?;
    optional(w, spec.owner.as_deref())?;
    optional(w, spec.meta.as_deref())
}

fn number(w: &mut impl Write, n: Option<i64>) -> io::Result<()> {
    match n {
        None => w.write_all(&[0]),
        Some(n) => {
            w.write_all(&[1])?;
            w.write_all(&n.to_le_bytes())
        }
    }
}

fn decode(r: &mut impl Read) -> io::Result<NewKey> {
    fn flag(r: &mut impl Read) -> io::Result<bool> {
        let mut b = [0u8; 1];
        r.read_exact(&mut b)?;
        Ok(b[0] == 1)
    }
    fn text(r: &mut impl Read) -> io::Result<String> {
        let mut len = [0u8; 4];
        r.read_exact(&mut len)?;
        let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
        r.read_exact(&mut bytes)?;
        String::from_utf8(bytes).map_err(|_| io::ErrorKind::InvalidData.into())
    }
    fn optional(r: &mut impl Read) -> io::Result<Option<String>> {
        if flag(r)? {
            text(r).map(Some)
        } else {
            Ok(None)
        }
    }
    let name = text(r)?;
    let description = optional(r)?;
    let service = optional(r)?;
    fn number(r: &mut impl Read) -> io::Result<Option<i64>> {
        if !flag(r)? {
            return Ok(None);
        }
        let mut n = [0u8; 8];
        r.read_exact(&mut n)?;
        Ok(Some(i64::from_le_bytes(n)))
    }
    let prefix = text(r)?;
    let expires_in = number(r)?;
    let mut count = [0u8; 4];
    r.read_exact(&mut count)?;
    let scopes = (0..u32::from_le_bytes(count))
        .map(|_| text(r))
        .collect::<io::Result<_>>()?;
    let remaining_uses = number(r)?;
    let rate = number(r)?.map(|n| RateLimit {
        limit: (n >> 32) as u32,
        per_seconds: n as u32,
    });
    let every = optional(r)?;
    let refill = crate::refill::from_columns(every.as_deref(), number(r)?, number(r)?);
    let allow_ip = crate::ip::from_stored(optional(r)?.as_deref());
    let owner = optional(r)?;
    let meta = optional(r)?;
    Ok(NewKey {
        name,
        description,
        service,
        prefix,
        expires_in,
        limits: Limits {
            scopes,
            remaining_uses,
            rate,
            refill,
            allow_ip,
        },
        owner,
        meta,
    })
}

/// The input and, for a file, its size (for the progress bar).
fn open_source(source: &Path) -> Result<(Box<dyn BufRead>, Option<u64>)> {
    if source == Path::new("-") {
        let stdin = io::stdin();
        if stdin.is_terminal() && io::stderr().is_terminal() {
            // Typed by hand, or a forgotten `< file`: say what is awaited.
            notice(
                "Reading JSON Lines from the terminal, one key per line, e.g. \
                 {\"name\": \"billing\", \"service\": \"sms\"}; end with Ctrl-D \
                 (Ctrl-C creates nothing)",
            );
        }
        return Ok((Box::new(BufReader::new(stdin)), None));
    }
    let file = File::open(source).map_err(|e| {
        Error::failed(
            Failure::File,
            format!("cannot read {}: {e}", source.display()),
        )
    })?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(1 << 16, file)), size))
}

fn progress_bar(size: Option<u64>) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    match size {
        Some(total) => ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{bar:40} {percent:>3}% {binary_bytes}/{binary_total_bytes} {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {binary_bytes} read {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{decode, encode};
    use crate::model::NewKey;
    use crate::model::{Limits, RateLimit};

    proptest! {
        #[test]
        fn a_spooled_key_reads_back_as_written(
            name in "\\PC{1,40}", description in proptest::option::of("\\PC{0,40}"),
            service in proptest::option::of("[a-z0-9-]{1,32}"), prefix in "[a-z][a-z0-9]{0,15}",
            expires_in in proptest::option::of(1i64..i64::MAX),
            scopes in proptest::collection::vec("[a-z0-9:*]{1,64}", 0..4),
            remaining_uses in proptest::option::of(0i64..i64::MAX),
            rate in proptest::option::of((1u32..=u32::MAX, 1u32..=u32::MAX)),
            refill in proptest::option::of((1u8..=31, 1i64..i64::MAX, any::<i64>())),
            owner in proptest::option::of("[A-Za-z0-9@|.-]{1,128}"),
            meta in proptest::option::of("\\PC{0,200}"),
        ) {
            let limits = Limits {
                scopes,
                remaining_uses,
                rate: rate.map(|(limit, per_seconds)| RateLimit { limit, per_seconds }),
                refill: refill.map(|(day, uses, at)| crate::model::Refill {
                    every: crate::model::RefillEvery::Month(day),
                    uses,
                    refilled_at: at,
                }),
                allow_ip: vec!["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()],
            };
            let spec = NewKey { name, description, service, prefix, expires_in, limits, owner, meta };
            let mut bytes = Vec::new();
            encode(&mut bytes, &spec).unwrap();
            encode(&mut bytes, &spec).unwrap();
            let mut reader = bytes.as_slice();
            for _ in 0..2 {
                let back = decode(&mut reader).unwrap();
                prop_assert_eq!(&back.name, &spec.name);
                prop_assert_eq!(&back.description, &spec.description);
                prop_assert_eq!(&back.service, &spec.service);
                prop_assert_eq!(&back.prefix, &spec.prefix);
                prop_assert_eq!(back.expires_in, spec.expires_in);
                prop_assert_eq!(&back.limits, &spec.limits);
                prop_assert_eq!(&back.owner, &spec.owner);
                prop_assert_eq!(&back.meta, &spec.meta);
            }
            prop_assert!(reader.is_empty());
        }
    }
}

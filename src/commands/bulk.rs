//! `keysmith create --from`: many keys from JSON Lines, in one transaction.
//!
//! Keys are shown only after the commit, yet memory stays bounded however
//! long the input: secrets come from a CSPRNG seeded once per run, and after
//! the commit the same seed draws them again for the rows read back in order.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use zeroize::Zeroizing;

use super::create::{MINT_ATTEMPTS, id_space_exhausted, key_record};
use super::{Context, event};
use crate::error::{Error, Result};
use crate::input;
use crate::key;
use crate::output::KeyJson;
use crate::store::{KeyInserter, KeyRecord, OpenMode};
use crate::time;

use crate::input::MAX_LINE;

pub fn run(ctx: &mut Context, source: &Path, default_prefix: &str) -> Result<u8> {
    let default_prefix = input::prefix(default_prefix)?;
    let (mut reader, size) = open_source(source)?;
    let progress = progress_bar(size);
    let seed = Zeroizing::new(rand::random::<[u8; 32]>());
    let mut store = ctx.open(OpenMode::Create)?;
    let now = time::now();

    let mut secrets = StdRng::from_seed(*seed);
    let mut fill = |inserter: &mut dyn KeyInserter| -> Result<()> {
        let mut buf = Vec::new();
        let mut line_number = 0u64;
        loop {
            buf.clear();
            let read = (&mut reader)
                .take(MAX_LINE + 1)
                .read_until(b'\n', &mut buf)
                .map_err(Error::input)?;
            if read == 0 {
                return Ok(());
            }
            line_number += 1;
            progress.inc(read as u64);
            let at_line = |e: Error| Error::Usage(format!("line {line_number}: {e}"));
            let Some(spec) = input::key_line(&buf, &default_prefix).map_err(at_line)? else {
                continue;
            };
            let secret = key::random_secret(&mut secrets);
            let mut attempts = 0;
            loop {
                let minted = key::assemble(&spec.prefix, key::random_id(), &secret);
                let record = key_record(&spec, &minted, now);
                if inserter.insert(&record, &event("create", &record.id, now, None))? {
                    break;
                }
                attempts += 1;
                if attempts == MINT_ATTEMPTS {
                    return Err(id_space_exhausted());
                }
            }
        }
    };

    let mut replay = StdRng::from_seed(*seed);
    let out = &mut ctx.out;
    let mut committed = |record: &KeyRecord| -> Result<()> {
        let secret = key::random_secret(&mut replay);
        let minted = key::assemble(&record.prefix, record.id.clone(), &secret);
        if !minted.hash.matches(&record.hash) {
            // Only a bug could get here; never print a key that is not stored.
            return Err(Error::Store(
                "internal error: a created key did not match the store; no more keys are shown"
                    .into(),
            ));
        }
        out.key_line(&KeyJson::new(record, now).with_secret(&minted.secret))
    };
    let count = store.insert_batch(&mut fill, &mut committed);
    progress.finish_and_clear();
    let count = count?;
    let noun = if count == 1 { "key" } else { "keys" };
    ctx.out.notice(&format!(
        "Created {count} {noun}. This is the only time the full keys are shown: store them now."
    ))?;
    Ok(0)
}

/// The input and, for a file, its size (for the progress bar).
fn open_source(source: &Path) -> Result<(Box<dyn BufRead>, Option<u64>)> {
    if source == Path::new("-") {
        return Ok((Box::new(BufReader::new(io::stdin())), None));
    }
    let file = File::open(source)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", source.display())))?;
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

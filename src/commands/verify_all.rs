//! `keysmith verify --stdin-all`: one result per input line, in order.

use std::io::{self, BufRead, Read};

use zeroize::Zeroizing;

use super::Context;
use super::verify::{MAX_INPUT, VerdictJson};
use crate::error::{Error, Result};
use crate::key;
use crate::store::{OpenMode, Store};
use crate::time;
use crate::verify::{Code, Verdict, judge};

/// Uses are written in batches of this many, each in one transaction.
const USE_BATCH: usize = 10_000;

pub fn run(ctx: &mut Context, service: Option<&str>) -> Result<u8> {
    let mut store: Option<Box<dyn Store>> = None;
    let now = time::now();
    let mut uses: Vec<i64> = Vec::new();
    let mut all_valid = true;
    let mut stdin = io::stdin().lock();
    let mut buf = Zeroizing::new(Vec::new());
    let mut line_number = 0u64;
    loop {
        buf.clear();
        let read = (&mut stdin)
            .take(MAX_INPUT)
            .read_until(b'\n', &mut buf)
            .map_err(Error::input)?;
        if read == 0 {
            break;
        }
        line_number += 1;
        let overlong = !buf.ends_with(b"\n") && read as u64 == MAX_INPUT;
        if overlong {
            skip_rest_of_line(&mut stdin)?;
        }
        let parsed = std::str::from_utf8(&buf)
            .ok()
            .filter(|_| !overlong)
            .and_then(|text| key::parse(text.trim()));
        let verdict = match parsed {
            None => Verdict {
                code: Code::Malformed,
                key: None,
            },
            Some(parsed) => {
                // The store is opened at the first well-formed key, not before.
                let store = match &mut store {
                    Some(store) => store,
                    None => store.insert(ctx.open(OpenMode::NoCreate)?),
                };
                judge(store.as_mut(), &parsed, service, now)?
            }
        };
        if let (Code::Valid, Some(key)) = (verdict.code, &verdict.key) {
            uses.push(key.seq);
            if uses.len() == USE_BATCH {
                record(&mut store, &mut uses, now)?;
            }
        }
        all_valid &= verdict.is_valid();
        if ctx.out.json {
            ctx.out
                .json_line(&VerdictJson::new(&verdict, Some(line_number)))?;
        } else {
            let id = verdict.key.as_ref().map_or("-", |k| k.id.as_str());
            ctx.out
                .line(&format!("{line_number} {} {id}", verdict.code.as_str()))?;
        }
    }
    record(&mut store, &mut uses, now)?;
    Ok(if all_valid { 0 } else { 1 })
}

/// Writes the pending uses in one transaction, in `seq` order, so each
/// batch walks the usage table once, front to back.
fn record(store: &mut Option<Box<dyn Store>>, uses: &mut Vec<i64>, now: i64) -> Result<()> {
    if let (Some(store), false) = (store, uses.is_empty()) {
        uses.sort_unstable();
        store.record_uses(uses, now)?;
    }
    uses.clear();
    Ok(())
}

fn skip_rest_of_line(input: &mut impl BufRead) -> Result<()> {
    let mut sink = Vec::new();
    loop {
        sink.clear();
        let read = input
            .take(MAX_INPUT)
            .read_until(b'\n', &mut sink)
            .map_err(Error::input)?;
        if read == 0 || sink.ends_with(b"\n") {
            return Ok(());
        }
    }
}

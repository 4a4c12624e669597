//! `keysmith verify --stdin-all`: one result per input line, in order.
//!
//! Lines are taken in chunks: each chunk's keys are looked up in one read
//! transaction and its uses written in one write transaction (two, when
//! some keys have a limit of uses), so the cost per key is the lookup, not
//! the locking around it.

use std::io::{self, BufRead, Read};

use zeroize::Zeroizing;

use super::MAX_INPUT;
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::key_format::{self, ParsedKey};
use crate::model::Credential;
use crate::store::{OpenMode, Store};
use crate::time;
use crate::verify::VerdictJson;
use crate::verify::{Code, Required, Verdict, judge, record};

/// Lines per chunk: one read and one write transaction each.
const CHUNK: usize = 10_000;

pub fn run(ctx: &mut Context, required: &Required) -> Result<u8> {
    let mut store: Option<Box<dyn Store>> = None;
    let now = time::now();
    let mut all_valid = true;
    let mut stdin = io::stdin().lock();
    let mut line_number = 0u64;
    loop {
        let chunk = read_chunk(&mut stdin)?;
        if chunk.is_empty() {
            break;
        }
        let mut stored: Vec<Option<Credential>> = vec![None; chunk.len()];
        let positions: Vec<usize> = (0..chunk.len()).filter(|&i| chunk[i].is_some()).collect();
        if !positions.is_empty() {
            // The store is opened at the first well-formed key, not before.
            let store = match &mut store {
                Some(store) => store,
                None => store.insert(ctx.open(OpenMode::NoCreate)?),
            };
            let ids: Vec<&str> = positions
                .iter()
                .filter_map(|&i| chunk[i].as_ref().map(|k| k.id.as_str()))
                .collect();
            store.credentials(&ids, &mut |n, record| {
                stored[positions[n]] = record;
                Ok(())
            })?;
        }
        let mut verdicts: Vec<Verdict> = chunk
            .iter()
            .zip(stored)
            .map(|(parsed, record)| match parsed {
                None => Verdict::new(Code::Malformed, None),
                Some(parsed) => judge(parsed, record, required, now),
            })
            .collect();
        // Uses first: a key with too few uses left is answered
        // USAGE_EXCEEDED on the lines past them.
        if let Some(store) = &mut store {
            record(store.as_mut(), &mut verdicts, now)?;
        }
        for verdict in &verdicts {
            line_number += 1;
            all_valid &= verdict.is_valid();
            if ctx.out.json {
                ctx.out
                    .json_line(&VerdictJson::new(verdict).at_line(line_number))?;
            } else {
                let id = verdict.key.as_ref().map_or("-", |k| k.id.as_str());
                ctx.out.words(&[
                    itoa::Buffer::new().format(line_number),
                    verdict.code.as_str(),
                    id,
                ])?;
            }
            if verdict.root_key {
                ctx.out
                    .notice(&format!("note: line {line_number} is {}", super::ROOT_KEY))?;
            }
        }
    }
    Ok(if all_valid { 0 } else { 1 })
}

/// Up to `CHUNK` lines, each parsed into a key or `None` (MALFORMED: bad
/// shape or checksum, blank, not UTF-8, or longer than any key).
fn read_chunk(input: &mut impl BufRead) -> Result<Vec<Option<ParsedKey>>> {
    let mut chunk = Vec::new();
    let mut buf = Zeroizing::new(Vec::new());
    while chunk.len() < CHUNK {
        buf.clear();
        let read = input
            .take(MAX_INPUT)
            .read_until(b'\n', &mut buf)
            .map_err(Error::input)?;
        if read == 0 {
            break;
        }
        let overlong = !buf.ends_with(b"\n") && read as u64 == MAX_INPUT;
        if overlong {
            skip_rest_of_line(input)?;
        }
        chunk.push(
            std::str::from_utf8(&buf)
                .ok()
                .filter(|_| !overlong)
                .and_then(|text| key_format::parse(text.trim())),
        );
    }
    Ok(chunk)
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

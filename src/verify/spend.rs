//! Recording the uses of VALID verdicts (docs/src/limits.md): spending one of a
//! limited number of uses, exact across processes, or counting one.

use crate::error::Result;
use crate::model::Timestamp;
use crate::store::Store;

use super::{Code, Verdict};

/// Records the uses of the VALID verdicts, as the CLI does: spends those of
/// keys with a limit (`spend`), then records the others' in one write.
pub fn record(store: &mut dyn Store, verdicts: &mut [Verdict], now: Timestamp) -> Result<()> {
    spend(store, verdicts, now)?;
    let unlimited: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.counts_a_use())
        .filter_map(|v| v.key.as_ref().map(|k| k.id.as_str()))
        .collect();
    if !unlimited.is_empty() {
        store.record_uses(&unlimited, now)?;
    }
    Ok(())
}

/// Spends one use for each VALID verdict of a key with a limit, in one
/// transaction (`Store::spend_uses`), exact across processes. When a key
/// has fewer uses left than it was presented, the first verdicts in order
/// get them and the rest become USAGE_EXCEEDED; a key deleted meanwhile is
/// NOT_FOUND. Each VALID verdict's key then shows the uses left after it.
/// Returns how many uses were spent.
pub fn spend(store: &mut dyn Store, verdicts: &mut [Verdict], now: Timestamp) -> Result<u64> {
    // Each id once, with where it was presented.
    let mut wanted: Vec<(String, Vec<usize>)> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, verdict) in verdicts.iter().enumerate() {
        if !verdict.spends_a_use() {
            continue;
        }
        let id = verdict.key.as_ref().map_or("", |k| k.id.as_str());
        match index.get(id) {
            Some(&j) => wanted[j].1.push(i),
            None => {
                index.insert(id, wanted.len());
                wanted.push((id.to_owned(), vec![i]));
            }
        }
    }
    drop(index);
    if wanted.is_empty() {
        return Ok(0);
    }
    let asked: Vec<(&str, u64)> = wanted
        .iter()
        .map(|(id, at)| (id.as_str(), at.len() as u64))
        .collect();
    let answers = store.spend_uses(&asked, now)?;
    let mut spent = 0;
    for ((_, positions), answer) in wanted.iter().zip(answers) {
        for (n, &i) in positions.iter().enumerate() {
            let verdict = &mut verdicts[i];
            match answer {
                None => *verdict = Verdict::new(Code::NotFound, None),
                Some(got) => {
                    let key = verdict
                        .key
                        .as_mut()
                        .expect("a verdict that spends has a key");
                    // Each granted verdict shows what was left after its own use.
                    let after = |left: Option<i64>| {
                        left.map(|l| l + got.granted.saturating_sub(1 + n as u64) as i64)
                    };
                    let granted = (n as u64) < got.granted;
                    if granted {
                        spent += 1;
                    } else {
                        verdict.code = Code::UsageExceeded;
                    }
                    let shown = |left| if granted { after(left) } else { left };
                    key.limits.remaining_uses = shown(got.remaining);
                    if let Some(owner) = key.owner_state.as_mut()
                        && owner.limits.remaining_uses.is_some()
                    {
                        owner.limits.remaining_uses = shown(got.owner_remaining);
                    }
                }
            }
        }
    }
    Ok(spent)
}

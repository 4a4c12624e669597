//! Recording the uses of VALID verdicts (docs/src/limits.md): spending one of a
//! limited number of uses, exact across processes, or counting one.

use crate::error::Result;
use crate::model::Timestamp;
use crate::store::Store;

use super::{Code, Verdict};

/// Records the uses of the VALID verdicts, as the CLI does: holds them to
/// their fleet-wide rate limits (`fleet::admit`), spends the uses of keys
/// with a limit (`spend`), gives back the rate-limit places of verdicts
/// that did not stay VALID, then records the others' uses in one write.
pub fn record(store: &mut dyn Store, verdicts: &mut [Verdict], now: Timestamp) -> Result<()> {
    let taken = super::fleet::admit(store, verdicts)?;
    // A spend that fails leaves its places taken: counted, never more.
    spend(store, verdicts, now)?;
    super::fleet::give_back(store, taken, verdicts);
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

/// Spends the cost of each VALID verdict of a key with a limit of uses (or
/// whose owner has one), in one transaction (`Store::spend_uses`), exact
/// across processes, in order: a verdict whose cost is more than is left,
/// of the key or of its owner, becomes USAGE_EXCEEDED and spends nothing;
/// a key deleted meanwhile is NOT_FOUND. Each VALID verdict's key (and
/// owner) then shows the uses left after it. Returns how many verdicts
/// spent.
pub fn spend(store: &mut dyn Store, verdicts: &mut [Verdict], now: Timestamp) -> Result<u64> {
    let spending: Vec<usize> = (0..verdicts.len())
        .filter(|&i| verdicts[i].spends_a_use())
        .collect();
    if spending.is_empty() {
        return Ok(0);
    }
    let asked: Vec<(&str, u64)> = spending
        .iter()
        .map(|&i| {
            let verdict = &verdicts[i];
            (
                verdict.key.as_ref().map_or("", |k| k.id.as_str()),
                verdict.cost,
            )
        })
        .collect();
    let answers = store.spend_uses(&asked, now)?;
    let mut spent = 0;
    for (&i, answer) in spending.iter().zip(answers) {
        let verdict = &mut verdicts[i];
        let Some(got) = answer else {
            *verdict = Verdict::new(Code::NotFound, None);
            continue;
        };
        if got.granted {
            spent += 1;
        } else {
            verdict.code = Code::UsageExceeded;
        }
        let key = verdict
            .key
            .as_mut()
            .expect("a verdict that spends has a key");
        key.limits.remaining_uses = got.remaining;
        if let Some(owner) = key.owner_state.as_mut()
            && owner.limits.remaining_uses.is_some()
        {
            owner.limits.remaining_uses = got.owner_remaining;
        }
    }
    Ok(spent)
}

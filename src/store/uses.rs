//! The one rule of spending uses (`Store::spend_uses`, docs/src/owners.md),
//! written once above the backends: each reads the rows of the keys and
//! owners a call spends from, lets `UsesLeft::grant` decide, and writes
//! back what changed, all in one transaction.

use crate::model::{Limits, Timestamp};

/// What `Store::spend_uses` answered one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spent {
    /// Whether the entry's cost was taken (all of it), and a use recorded.
    pub granted: bool,
    /// The key's remaining uses afterwards; `None`: unlimited.
    pub remaining: Option<i64>,
    /// Its owner's remaining uses afterwards; `None`: no owner, or one
    /// without a limit of uses.
    pub owner_remaining: Option<i64>,
}

/// What a backend read, inside `spend_uses`'s transaction, of the keys and
/// owners it spends from: each key's uses left, refill and owner, each
/// owner's uses left and refill (`Limits` with those fields; no
/// `remaining_uses`: unlimited). `grant` changes them as it spends.
#[derive(Debug, Default)]
pub struct UsesLeft {
    pub keys: std::collections::HashMap<String, (Limits, Option<String>)>,
    pub owners: std::collections::HashMap<String, Limits>,
}

impl UsesLeft {
    /// Grants each entry `(id, cost)` in order when neither the key's uses
    /// left at `at` nor its owner's are fewer than `cost`, taking them from
    /// both; an entry refused takes nothing. A refill due at `at` is
    /// applied first (`Limits::refill_due`). The one rule of
    /// `Store::spend_uses` (docs/src/owners.md), written once for every
    /// backend, which reads the rows into `self`, and after it writes back
    /// the uses left and the last refill of each key and owner that
    /// granted any.
    pub fn grant(&mut self, wanted: &[(&str, u64)], at: Timestamp) -> Vec<Option<Spent>> {
        wanted
            .iter()
            .map(|&(id, n)| {
                let (key, owner) = self.keys.get_mut(id)?;
                key.refill_due(at);
                let key_left = key.remaining_uses;
                let owner = owner.clone();
                let owner_limits = owner.as_ref().and_then(|o| self.owners.get_mut(o));
                let owner_left = owner_limits.and_then(|limits| {
                    limits.refill_due(at);
                    limits.remaining_uses
                });
                let most = |left: Option<i64>| left.map_or(u64::MAX, |l| l.max(0) as u64);
                let granted = n <= most(key_left) && n <= most(owner_left);
                let taken = if granted { n as i64 } else { 0 };
                let take = |left: Option<i64>| left.map(|l| l - taken);
                let spent = Spent {
                    granted,
                    remaining: take(key_left),
                    owner_remaining: take(owner_left),
                };
                if let Some((key, _)) = self.keys.get_mut(id) {
                    key.remaining_uses = spent.remaining;
                }
                if let Some(limits) = owner.as_ref().and_then(|o| self.owners.get_mut(o))
                    && limits.remaining_uses.is_some()
                {
                    limits.remaining_uses = spent.owner_remaining;
                }
                Some(spent)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::UsesLeft;
    use crate::model::Limits;

    proptest! {
        /// Whatever the entries, their order and costs: no key and no owner
        /// gives more than it had, each granted entry took its whole cost
        /// from both, and a refused one took nothing.
        #[test]
        fn grant_never_takes_more_than_is_left(
            keys in proptest::collection::vec(
                (proptest::option::of(0i64..20), proptest::option::of(0usize..3)), 1..5),
            owners in proptest::collection::vec(proptest::option::of(0i64..20), 3),
            entries in proptest::collection::vec((0usize..5, 0u64..8), 0..30),
        ) {
            let mut left = UsesLeft::default();
            let key_id = |i: usize| format!("k{i}");
            let owner_id = |i: usize| format!("o{i}");
            let limits = |uses: Option<i64>| Limits { remaining_uses: uses, ..Limits::default() };
            for (i, (uses, owner)) in keys.iter().enumerate() {
                left.keys.insert(key_id(i), (limits(*uses), owner.map(owner_id)));
            }
            for (i, uses) in owners.iter().enumerate() {
                left.owners.insert(owner_id(i), limits(*uses));
            }
            let ids: Vec<String> = entries.iter().map(|(k, _)| key_id(k % keys.len())).collect();
            let wanted: Vec<(&str, u64)> = ids
                .iter()
                .zip(&entries)
                .map(|(id, (_, cost))| (id.as_str(), *cost))
                .collect();
            let answers = left.grant(&wanted, 0);
            let mut taken_key = vec![0i64; keys.len()];
            let mut taken_owner = [0i64; 3];
            for ((&(_, cost), answer), (k, _)) in wanted.iter().zip(&answers).zip(&entries) {
                let k = k % keys.len();
                let spent = answer.expect("every key is there");
                if spent.granted {
                    taken_key[k] += cost as i64;
                    if let Some(o) = keys[k].1 {
                        taken_owner[o] += cost as i64;
                    }
                }
            }
            for (k, (uses, _)) in keys.iter().enumerate() {
                if let Some(had) = uses {
                    prop_assert!(taken_key[k] <= *had);
                    prop_assert_eq!(left.keys[&key_id(k)].0.remaining_uses, Some(had - taken_key[k]));
                }
            }
            for (o, uses) in owners.iter().enumerate() {
                let used = keys.iter().any(|(_, owner)| *owner == Some(o));
                if let (Some(had), true) = (uses, used) {
                    prop_assert!(taken_owner[o] <= *had);
                    prop_assert_eq!(left.owners[&owner_id(o)].remaining_uses, Some(had - taken_owner[o]));
                }
            }
        }
    }
}

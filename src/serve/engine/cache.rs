//! The cache of stored credentials, by key id: filled by reads, emptied by
//! a freshness check that saw a change (see `freshness.rs`). A filler
//! inserts what it read only into the generation it started reading in, so
//! an entry is never older than the last change the checks saw. A key with
//! a limit of uses is never cached: its uses left change with every use,
//! and uses do not count as changes.

use std::collections::HashMap;

use crate::error::Result;
use crate::key_format::ParsedKey;
use crate::model::Credential;
use crate::store::Store;

use super::Engine;

/// The cache holds at most this many ids (found or not); past it, it starts
/// again empty. About 150 bytes an entry.
const CACHE_LIMIT: usize = 100_000;

#[derive(Default)]
pub(super) struct Cache {
    generation: u64,
    map: HashMap<String, Option<Credential>>,
}

impl Engine {
    /// The stored credential of each of `keys` when the cache holds them
    /// all; `None` when one is missing (or there is no cache).
    pub(super) fn all_cached(&self, keys: &[&ParsedKey]) -> Option<Vec<Option<Credential>>> {
        if !self.cached {
            return None;
        }
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        keys.iter().map(|k| cache.map.get(&k.id).cloned()).collect()
    }

    pub(super) fn clear_cache(&self) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        cache.generation += 1;
        cache.map.clear();
    }

    /// The stored credential of each key, fresh for a request whose
    /// check (`try_fresh`) succeeded.
    pub(super) fn credentials(
        &self,
        store: &mut dyn Store,
        keys: &[&ParsedKey],
    ) -> Result<Vec<Option<Credential>>> {
        let mut found: Vec<Option<Credential>> = vec![None; keys.len()];
        if !self.cached {
            let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
            store.credentials(&ids, &mut |i, c| {
                found[i] = c;
                Ok(())
            })?;
            return Ok(found);
        }
        let mut missing: Vec<usize> = Vec::new();
        let generation = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            for (i, key) in keys.iter().enumerate() {
                match cache.map.get(&key.id) {
                    Some(entry) => found[i] = entry.clone(),
                    None => missing.push(i),
                }
            }
            cache.generation
        };
        if missing.is_empty() {
            return Ok(found);
        }
        // Read after the generation was taken: see the module's note.
        let ids: Vec<&str> = missing.iter().map(|&i| keys[i].id.as_str()).collect();
        store.credentials(&ids, &mut |j, c| {
            found[missing[j]] = c;
            Ok(())
        })?;
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.generation == generation {
            if cache.map.len() + missing.len() > CACHE_LIMIT {
                cache.map.clear();
            }
            for &i in &missing {
                // A key with a limit of uses is read through every time:
                // its uses left change with every use, and uses do not
                // count as changes (see the module's note).
                if found[i].as_ref().is_some_and(Credential::has_limited_uses) {
                    continue;
                }
                cache.map.insert(keys[i].id.clone(), found[i].clone());
            }
        }
        Ok(found)
    }
}

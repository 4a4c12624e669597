//! Root keys in a store made before them (docs/src/limits.md): from the
//! schema version that reserves the `keysmith:` namespace for root keys
//! (SQLite 8, PostgreSQL 6), a store migrated across it tells the operator
//! which keys already held such scopes, rather than make them root keys
//! without a word. The migration changes no table.

use crate::model::Limits;

/// The keys to look at, the same on both backends (a scope like
/// `xkeysmith:a` matches too, and is sorted out by `warnings`).
pub(crate) const HOLDING_RESERVED_SCOPES: &str =
    "SELECT id, scopes FROM keys WHERE scopes LIKE '%keysmith:%' ORDER BY id";

/// A warning for each key of `held` (id, scopes as stored) that holds a
/// `keysmith:` scope: a root key from now on when it holds nothing else
/// (answered NOT_FOUND by verifications), else an ordinary key as before.
pub(crate) fn warnings(held: Vec<(String, Option<String>)>) -> Vec<String> {
    held.into_iter()
        .filter_map(|(id, scopes)| {
            let limits = Limits {
                scopes: Limits::scopes_from(scopes.as_deref()),
                ..Limits::default()
            };
            let reserved: Vec<&str> = limits
                .scopes
                .iter()
                .map(String::as_str)
                .filter(|s| s.starts_with("keysmith:"))
                .collect();
            if reserved.is_empty() {
                return None;
            }
            let reserved = reserved.join(", ");
            Some(if limits.is_root() {
                format!(
                    "key {id} holds only scopes now reserved for root keys ({reserved}): it is a \
                     root key from now on, answered NOT_FOUND by every verification; to keep it \
                     an ordinary key: keysmith edit {id} --no-scopes"
                )
            } else {
                format!(
                    "key {id} holds scopes now reserved for root keys ({reserved}), but not only \
                     root keys' scopes: it stays an ordinary key and verifies as before; no key \
                     can be given them again"
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_keys_and_ordinary_keys_holding_reserved_scopes_are_told_apart() {
        let said = warnings(vec![
            ("a".into(), Some("keysmith:keys:read keysmith:*".into())),
            ("b".into(), Some("keysmith:deploy sms:send".into())),
            ("c".into(), Some("xkeysmith:a".into())),
            ("d".into(), Some("keysmith:deploy".into())),
        ]);
        assert_eq!(said.len(), 3, "{said:?}");
        assert!(
            said[0].starts_with("key a holds only scopes"),
            "{}",
            said[0]
        );
        assert!(said[0].contains("root key from now on"));
        assert!(said[1].contains("(keysmith:deploy), but"), "{}", said[1]);
        assert!(said[1].contains("stays an ordinary key"));
        // Not one of the root scopes: not a root key.
        assert!(said[2].starts_with("key d holds scopes"), "{}", said[2]);
        assert!(said[2].contains("stays an ordinary key"));
    }
}

//! Every SQL statement of the SQLite store, as string constants built at
//! compile time (the schema and its migrations are in `schema`).

/// The columns `key_from_row` reads, in its order. A macro so that whole
/// statements are string constants, built at compile time.
macro_rules! key_columns {
    () => {
        "SELECT k.id, k.hash, k.prefix, k.name, k.description, k.service, k.disabled, \
         k.created_at, k.expires_at, "
    };
}

/// One key by id, its uses by subqueries: with a LEFT JOIN SQLite would
/// re-prepare the statement at every new binding, costing more than the lookup.
pub(super) const SELECT_KEY_BY_ID: &str = concat!(
    key_columns!(),
    "(SELECT last_used_at FROM usage WHERE seq = k.seq), \
     coalesce((SELECT use_count FROM usage WHERE seq = k.seq), 0), \
     k.rotated_from, k.replaced_by, k.seq, k.scopes, k.remaining_uses, k.rate_limit, \
     k.rate_per, k.refill, k.refill_uses, k.refilled_at, k.allow_ip, k.owner, k.meta FROM keys AS k WHERE k.id = ?1"
);

/// What verification reads of a key (see `Store::credentials`).
pub(super) const SELECT_CREDENTIAL: &str = "SELECT k.id, k.hash, k.name, k.service, k.disabled, \
     k.expires_at, k.scopes, k.remaining_uses, k.rate_limit, k.rate_per, k.refill, \
     k.refill_uses, k.refilled_at, k.allow_ip, k.owner, k.meta, o.disabled, NULL, \
     o.remaining_uses, o.rate_limit, o.rate_per, o.refill, o.refill_uses, o.refilled_at, \
     o.allow_ip \
     FROM keys AS k LEFT JOIN owners AS o ON o.id = k.owner WHERE k.id = ?1";

/// The rest of every `events` query: parameters 4 (since) and 5 (a JSON
/// array of actions), newest first, at most parameter 2.
macro_rules! event_filters {
    () => {
        " AND (?4 IS NULL OR at >= ?4) \
          AND (?5 IS NULL OR action IN (SELECT value FROM json_each(?5))) \
          ORDER BY seq DESC LIMIT ?2"
    };
}

/// Many keys, their uses by one join lookup each (prepared once per run).
macro_rules! select_keys {
    () => {
        concat!(
            key_columns!(),
            "u.last_used_at, coalesce(u.use_count, 0), k.rotated_from, k.replaced_by, k.seq, \
             k.scopes, k.remaining_uses, k.rate_limit, k.rate_per, k.refill, k.refill_uses, k.refilled_at, k.allow_ip, k.owner, k.meta \
             FROM keys AS k LEFT JOIN usage AS u ON u.seq = k.seq "
        )
    };
}

pub(super) const SELECT_ALL_KEYS: &str = concat!(select_keys!(), "ORDER BY k.seq");
pub(super) const SELECT_KEYS_BY_NAME: &str =
    concat!(select_keys!(), "WHERE k.name = ?1 ORDER BY k.seq DESC");
/// Keys a batch has just added, read back after its commit: no key of
/// theirs can have been used yet (none was shown), so no uses are looked up.
pub(super) const SELECT_NEW_KEYS_IN_RANGE: &str = concat!(
    key_columns!(),
    "NULL, 0, k.rotated_from, k.replaced_by, k.seq, k.scopes, k.remaining_uses, k.rate_limit, \
     k.rate_per, k.refill, k.refill_uses, k.refilled_at, k.allow_ip, k.owner, k.meta FROM keys AS k \
     WHERE k.seq BETWEEN ?1 AND ?2 ORDER BY k.seq"
);
/// Every key newest first, without its uses: `list_keys` merges those in
/// from `SELECT_USAGE_NEWEST` (a join would search `usage` once per row).
pub(super) const SELECT_KEYS_NEWEST: &str = concat!(
    key_columns!(),
    "NULL, 0, k.rotated_from, k.replaced_by, k.seq, k.scopes, k.remaining_uses, k.rate_limit, \
     k.rate_per, k.refill, k.refill_uses, k.refilled_at, k.allow_ip, k.owner, k.meta FROM keys AS k ORDER BY k.seq DESC LIMIT ?1"
);
pub(super) const SELECT_USAGE_NEWEST: &str =
    "SELECT seq, last_used_at, use_count FROM usage ORDER BY seq DESC";
pub(super) const SELECT_KEYS_FILTERED: &str = concat!(
    select_keys!(),
    "WHERE (?1 IS NULL OR k.service = ?1)
       AND (?2 IS NULL
            OR (?2 = 'disabled' AND k.disabled = 1)
            OR (?2 = 'expired' AND k.disabled = 0 AND k.expires_at <= ?3)
            OR (?2 = 'enabled' AND k.disabled = 0 AND (k.expires_at IS NULL OR k.expires_at > ?3)))
       AND (?5 IS NULL OR (k.expires_at > ?3 AND k.expires_at <= ?5))
       AND (?6 IS NULL OR coalesce(u.last_used_at, k.created_at) <= ?6)
       AND (?7 IS NULL OR k.owner = ?7)"
);
/// A new key has no uses: its `usage` row appears with the first one.
pub(super) const INSERT_KEY: &str = "INSERT INTO keys (id, hash, prefix, name, description, service, disabled, \
     created_at, expires_at, rotated_from, replaced_by, scopes, remaining_uses, rate_limit, \
     rate_per, owner, meta, refill, refill_uses, refilled_at, allow_ip) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
     ?19, ?20, ?21) \
     ON CONFLICT (id) DO NOTHING";
/// Every owner a key names has a record, made with the first key that
/// names it (docs/src/owners.md); the time is the store's clock.
pub(super) const ENSURE_OWNER: &str = "INSERT INTO owners (id, created_at) VALUES (?1, unixepoch()) \
     ON CONFLICT (id) DO NOTHING";
/// Uses are found by the key's id, never by a row number a caller kept:
/// SQLite gives a deleted key's `seq` to the next key (no AUTOINCREMENT), so
/// a number read before a `delete` could credit another key. The latest use
/// wins: batches from several processes arrive in any order.
pub(super) const RECORD_USE_BY_ID: &str = "INSERT INTO usage (seq, last_used_at, use_count) \
     SELECT seq, ?2, ?3 FROM keys WHERE id = ?1 \
     ON CONFLICT (seq) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at), \
     use_count = use_count + excluded.use_count";
/// `RECORD_USE_BY_ID` for a JSON array of ids, in one statement: the loop
/// runs inside SQLite instead of one bind, step and reset per use, and the
/// rows are written in `seq` order. An id that repeats counts each time.
/// (`WHERE true` tells the parser that ON CONFLICT belongs to the INSERT.)
pub(super) const RECORD_USES_BY_ID: &str = "INSERT INTO usage (seq, last_used_at, use_count) \
     SELECT k.seq, ?2, count(*) FROM json_each(?1) AS j JOIN keys AS k ON k.id = j.value \
     WHERE true GROUP BY k.seq ORDER BY k.seq \
     ON CONFLICT (seq) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at), \
     use_count = use_count + excluded.use_count";
/// The same for a JSON array of `[id, count]` pairs (twice the work per
/// entry: for counts other than one).
pub(super) const RECORD_USE_COUNTS_BY_ID: &str = "INSERT INTO usage (seq, last_used_at, use_count) \
     SELECT k.seq, ?2, sum(j.value ->> 1) FROM json_each(?1) AS j \
     JOIN keys AS k ON k.id = j.value ->> 0 \
     WHERE true GROUP BY k.seq ORDER BY k.seq \
     ON CONFLICT (seq) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at), \
     use_count = use_count + excluded.use_count";
/// Run by every transaction that may change keys (see migration 4).
pub(super) const COUNT_CHANGE: &str = "UPDATE key_changes SET n = n + 1";
pub(super) const INSERT_USAGE: &str =
    "INSERT INTO usage (seq, last_used_at, use_count) VALUES (?1, ?2, ?3)";
/// The key's `seq` is looked up, except in bulk, where it is known.
pub(super) const INSERT_EVENT: &str = "INSERT INTO events (at, action, key_id, actor, detail, owner, key_seq) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT seq FROM keys WHERE id = ?3))";
pub(super) const INSERT_EVENT_WITH_SEQ: &str = "INSERT INTO events (at, action, key_id, actor, detail, owner, key_seq) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// Everyone's events (`events`: parameters 1 and 3 unused).
pub(super) const SELECT_EVENTS: &str = concat!(
    "SELECT at, action, key_id, actor, detail, owner FROM events ",
    "WHERE ?1 IS NULL AND ?3 IS NULL",
    event_filters!(),
);
/// A stored key's events by its `seq` (parameter 3; the id, parameter 1,
/// guards against a reused `seq`).
pub(super) const SELECT_EVENTS_OF_STORED_KEY: &str = concat!(
    "SELECT at, action, key_id, actor, detail, owner FROM events ",
    "WHERE key_seq = ?3 AND key_id = ?1",
    event_filters!(),
);
/// A deleted key's events, by scanning for its id.
pub(super) const SELECT_EVENTS_OF_DELETED_KEY: &str = concat!(
    "SELECT at, action, key_id, actor, detail, owner FROM events ",
    "WHERE key_id = ?1 AND ?3 IS NULL",
    event_filters!(),
);
/// An owner's events: its own, and its keys' while they were its.
pub(super) const SELECT_EVENTS_OF_OWNER: &str = concat!(
    "SELECT at, action, key_id, actor, detail, owner FROM events ",
    "WHERE owner = ?1 AND ?3 IS NULL",
    event_filters!(),
);
pub(super) const SELECT_ALL_EVENTS: &str =
    "SELECT at, action, key_id, actor, detail, owner FROM events ORDER BY seq";
pub(super) const SELECT_SEQ_BY_ID: &str = "SELECT seq FROM keys WHERE id = ?1";
pub(super) const SELECT_PREFIXES: &str = "SELECT DISTINCT prefix FROM keys ORDER BY prefix";
pub(super) const SELECT_SERVICES: &str =
    "SELECT DISTINCT service FROM keys WHERE service IS NOT NULL ORDER BY service";
/// Run by every transaction that may change keys; read by `change_counter`.
pub(super) const SELECT_CHANGE_COUNTER: &str = "SELECT n FROM key_changes";
/// What `spend_uses` reads of a key: its owner, then its uses as
/// `limits_from_row` reads them (no scopes, no rate) from column 1.
pub(super) const SELECT_REMAINING_USES: &str = "SELECT owner, NULL, remaining_uses, NULL, NULL, \
     refill, refill_uses, refilled_at, NULL FROM keys WHERE id = ?1";
pub(super) const UPDATE_REMAINING_USES: &str =
    "UPDATE keys SET remaining_uses = ?2, refilled_at = ?3 WHERE id = ?1";
/// An owner's uses as `limits_from_row` reads them, from column 0.
pub(super) const SELECT_OWNER_USES: &str = "SELECT NULL, remaining_uses, NULL, NULL, refill, \
     refill_uses, refilled_at, NULL FROM owners WHERE id = ?1";
pub(super) const UPDATE_OWNER_USES: &str =
    "UPDATE owners SET remaining_uses = ?2, refilled_at = ?3 WHERE id = ?1";
/// Whether a store holds anything: `import` fills empty ones only.
pub(super) const SELECT_OCCUPIED: &str =
    "SELECT EXISTS (SELECT 1 FROM keys) OR EXISTS (SELECT 1 FROM events)";
/// What a change may alter of a stored key (`Transaction::save_key`).
pub(super) const SAVE_KEY: &str = "UPDATE keys SET name = ?2, description = ?3, service = ?4, \
     disabled = ?5, expires_at = ?6, replaced_by = ?7, scopes = ?8, remaining_uses = ?9, \
     rate_limit = ?10, rate_per = ?11, owner = ?12, meta = ?13, refill = ?14, \
     refill_uses = ?15, refilled_at = ?16, allow_ip = ?17 WHERE id = ?1";
/// A key's uses go with it: a later key may be given the same `seq`.
pub(super) const DELETE_USAGE: &str = "DELETE FROM usage WHERE seq = ?1";
pub(super) const DELETE_KEY: &str = "DELETE FROM keys WHERE seq = ?1";

/// The columns `owner_from_row` reads: the owner, its limits as
/// `limits_from_row` reads them (no scopes), and how many keys it has.
macro_rules! owner_columns {
    () => {
        "SELECT o.id, o.disabled, o.created_at, NULL, o.remaining_uses, o.rate_limit, o.rate_per, \
         o.refill, o.refill_uses, o.refilled_at, o.allow_ip, \
         (SELECT count(*) FROM keys WHERE keys.owner = o.id) FROM owners AS o "
    };
}
pub(super) const SELECT_OWNER: &str = concat!(owner_columns!(), "WHERE o.id = ?1");
pub(super) const SELECT_OWNERS: &str = concat!(owner_columns!(), "ORDER BY o.id");
pub(super) const SELECT_ALL_OWNERS: &str = concat!(owner_columns!(), "ORDER BY o.seq");
/// Adds or changes an owner (`Transaction::save_owner`).
pub(super) const SAVE_OWNER: &str = "INSERT INTO owners (id, disabled, created_at, remaining_uses, \
     rate_limit, rate_per, refill, refill_uses, refilled_at, allow_ip) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
     ON CONFLICT (id) DO UPDATE SET disabled = excluded.disabled, \
     remaining_uses = excluded.remaining_uses, rate_limit = excluded.rate_limit, \
     rate_per = excluded.rate_per, refill = excluded.refill, refill_uses = excluded.refill_uses, \
     refilled_at = excluded.refilled_at, allow_ip = excluded.allow_ip";
pub(super) const DELETE_OWNER: &str = "DELETE FROM owners WHERE id = ?1";

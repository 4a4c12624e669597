//! Every SQL statement of the PostgreSQL store (the schema and its
//! migrations are in `schema`).

use tokio_postgres::types::Type;

macro_rules! key_columns {
    () => {
        "SELECT k.id, k.hash, k.prefix, k.name, k.description, k.service, k.disabled, \
         k.created_at, k.expires_at, u.last_used_at, coalesce(u.use_count, 0), \
         k.rotated_from, k.replaced_by, k.seq, \
         k.scopes, k.remaining_uses, k.rate_limit, k.rate_per, k.refill, k.refill_uses, \
         k.refilled_at, k.allow_ip, k.owner, k.meta \
         FROM keys AS k LEFT JOIN usage AS u ON u.seq = k.seq "
    };
}

pub(super) const SELECT_KEY_BY_ID: &str = concat!(key_columns!(), "WHERE k.id = $1");
/// The key's row stays locked until the transaction ends: two concurrent
/// changes of one key (two `rotate`s) happen one after the other.
pub(super) const LOCK_KEY_BY_ID: &str = concat!(key_columns!(), "WHERE k.id = $1 FOR UPDATE OF k");
pub(super) const SELECT_CREDENTIALS: &str = "SELECT k.id, k.hash, k.name, k.service, k.disabled, \
     k.expires_at, k.scopes, k.remaining_uses, k.rate_limit, k.rate_per, k.refill, \
     k.refill_uses, k.refilled_at, k.allow_ip, k.owner, k.meta, o.disabled, NULL::text, \
     o.remaining_uses, o.rate_limit, o.rate_per, o.refill, o.refill_uses, o.refilled_at, \
     o.allow_ip \
     FROM keys AS k LEFT JOIN owners AS o ON o.id = k.owner WHERE k.id = ANY($1)";
pub(super) const SELECT_KEYS_BY_SEQS: &str =
    concat!(key_columns!(), "WHERE k.seq = ANY($1) ORDER BY k.seq");
pub(super) const SELECT_KEYS_BY_NAME: &str =
    concat!(key_columns!(), "WHERE k.name = $1 ORDER BY k.seq DESC");
pub(super) const SELECT_ALL_KEYS: &str = concat!(key_columns!(), "ORDER BY k.seq");
pub(super) const SELECT_KEYS_FILTERED: &str = concat!(
    key_columns!(),
    "WHERE ($1::text IS NULL OR k.service = $1)
       AND ($2::text IS NULL
            OR ($2 = 'disabled' AND k.disabled)
            OR ($2 = 'expired' AND NOT k.disabled AND k.expires_at <= $3)
            OR ($2 = 'enabled' AND NOT k.disabled AND (k.expires_at IS NULL OR k.expires_at > $3)))
       AND ($5::bigint IS NULL OR (k.expires_at > $3 AND k.expires_at <= $5))
       AND ($6::bigint IS NULL OR coalesce(u.last_used_at, k.created_at) <= $6)
       AND ($7::text IS NULL OR k.owner = $7)"
);
pub(super) const INSERT_KEY: &str = "INSERT INTO keys (id, hash, prefix, name, description, service, disabled, \
     created_at, expires_at, rotated_from, replaced_by, scopes, remaining_uses, rate_limit, \
     rate_per, owner, meta, refill, refill_uses, refilled_at, allow_ip) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
     $19, $20, $21) \
     ON CONFLICT (id) DO NOTHING";
/// Every owner a key names has a record, made with the first key that
/// names it (docs/src/owners.md); the time is the server's clock. `$1` is
/// an array: the bulk paths make many at once.
pub(super) const ENSURE_OWNERS: &str = "INSERT INTO owners (id, created_at) \
     SELECT DISTINCT o, floor(extract(epoch FROM now()))::bigint FROM unnest($1::text[]) AS o \
     WHERE o IS NOT NULL ORDER BY o ON CONFLICT (id) DO NOTHING";
pub(super) const KEY_TYPES: [Type; 21] = [
    Type::TEXT,
    Type::BYTEA,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::BOOL,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
];
/// Keys and their `create` events, many per statement, in input order.
pub(super) const INSERT_KEYS_WITH_EVENTS: &str = "WITH new AS (
        INSERT INTO keys (id, hash, prefix, name, description, service, disabled,
                          created_at, expires_at, rotated_from, replaced_by,
                          scopes, remaining_uses, rate_limit, rate_per, owner, meta,
                          refill, refill_uses, refilled_at, allow_ip)
        SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[],
                             $6::text[], $7::boolean[], $8::bigint[], $9::bigint[],
                             $10::text[], $11::text[], $12::text[], $13::bigint[],
                             $14::bigint[], $15::bigint[], $16::text[], $17::text[],
                             $18::text[], $19::bigint[], $20::bigint[], $21::text[])
        ON CONFLICT (id) DO NOTHING
        RETURNING seq, id)
    INSERT INTO events (at, action, key_id, actor, detail, owner, key_seq)
    SELECT e.at, e.action, e.key_id, e.actor, e.detail, e.owner, new.seq
    FROM unnest($22::bigint[], $23::text[], $24::text[], $25::text[], $26::text[], $27::text[])
         WITH ORDINALITY AS e(at, action, key_id, actor, detail, owner, n)
    JOIN new ON new.id = e.key_id
    ORDER BY e.n
    RETURNING key_seq, key_id";
/// Copied keys and their uses, many per statement, in input order.
pub(super) const IMPORT_KEYS: &str = "WITH new AS (
        INSERT INTO keys (id, hash, prefix, name, description, service, disabled,
                          created_at, expires_at, rotated_from, replaced_by,
                          scopes, remaining_uses, rate_limit, rate_per, owner, meta,
                          refill, refill_uses, refilled_at, allow_ip)
        SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[],
                             $6::text[], $7::boolean[], $8::bigint[], $9::bigint[],
                             $10::text[], $11::text[], $12::text[], $13::bigint[],
                             $14::bigint[], $15::bigint[], $16::text[], $17::text[],
                             $18::text[], $19::bigint[], $20::bigint[], $21::text[])
        RETURNING seq, id)
    INSERT INTO usage (seq, last_used_at, use_count)
    SELECT new.seq, u.last_used_at, u.use_count
    FROM unnest($22::text[], $23::bigint[], $24::bigint[]) AS u(id, last_used_at, use_count)
    JOIN new ON new.id = u.id";
pub(super) const IMPORT_EVENTS: &str =
    "INSERT INTO events (at, action, key_id, actor, detail, owner, key_seq)
    SELECT e.at, e.action, e.key_id, e.actor, e.detail, e.owner,
           (SELECT seq FROM keys WHERE keys.id = e.key_id)
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         WITH ORDINALITY AS e(at, action, key_id, actor, detail, owner, n)
    ORDER BY e.n";
/// Clocks of many hosts disagree a little: the latest use wins.
/// By the key's id, as in SQLite: a key deleted since it was verified gets
/// no use, and no row is left for it.
pub(super) const RECORD_USE: &str = "INSERT INTO usage (seq, last_used_at, use_count) \
     SELECT seq, $2, $3 FROM keys WHERE id = $1 \
     ON CONFLICT (seq) DO UPDATE SET \
     last_used_at = greatest(usage.last_used_at, excluded.last_used_at), \
     use_count = usage.use_count + excluded.use_count";
/// Each distinct id is looked up through the id index (LATERAL: a join
/// could choose to scan every key), and the rows are written in `seq`
/// order, so that two batches touching the same keys cannot deadlock.
pub(super) const RECORD_USES: &str = "INSERT INTO usage (seq, last_used_at, use_count) \
     SELECT k.seq, $2, u.n \
     FROM (SELECT id, sum(n)::bigint AS n FROM unnest($1::text[], $3::bigint[]) AS t (id, n) \
           GROUP BY id) AS u \
     CROSS JOIN LATERAL (SELECT seq FROM keys WHERE keys.id = u.id) AS k \
     ORDER BY k.seq \
     ON CONFLICT (seq) DO UPDATE SET \
     last_used_at = greatest(usage.last_used_at, excluded.last_used_at), \
     use_count = usage.use_count + excluded.use_count";
/// Run first by every transaction that may change keys (see migration 2).
pub(super) const COUNT_CHANGE: &str = "UPDATE key_changes SET n = n + 1";
/// A key is durable before it is shown (docs/src/store.md, as SQLite's
/// `synchronous=FULL`): the commit of a new key waits for the server's WAL
/// flush even where the server, database or role turned
/// `synchronous_commit` off for speed. Only for this transaction; a
/// stronger setting (`remote_apply`, ...) is kept.
pub(super) const DURABLE_COMMIT: &str = "SELECT set_config('synchronous_commit', 'on', true) \
     WHERE current_setting('synchronous_commit') = 'off'";
pub(super) const INSERT_EVENT: &str = "INSERT INTO events (at, action, key_id, actor, detail, owner, key_seq) \
     VALUES ($1, $2, $3, $4, $5, $6, (SELECT seq FROM keys WHERE id = $3))";

/// A stored key's events by its `seq` (the id check guards against a
/// stale `seq`); a deleted key's by scanning for its id. Parameters: the
/// id, the limit, since, the actions (NULL: every one).
pub(super) const SELECT_EVENTS_OF_KEY: &str = concat!(
    "SELECT at, action, key_id, actor, detail, owner FROM events ",
    "WHERE key_id = $1 AND (key_seq = (SELECT seq FROM keys WHERE id = $1) ",
    "OR NOT EXISTS (SELECT 1 FROM keys WHERE id = $1)) ",
    "AND ($3::bigint IS NULL OR at >= $3) AND ($4::text[] IS NULL OR action = ANY($4)) ",
    "ORDER BY seq DESC LIMIT $2"
);
/// Everyone's events: `SELECT_EVENTS_OF_KEY`'s parameters, the id NULL.
pub(super) const SELECT_EVENTS: &str = concat!(
    "SELECT at, action, key_id, actor, detail, owner FROM events ",
    "WHERE $1::text IS NULL ",
    "AND ($3::bigint IS NULL OR at >= $3) AND ($4::text[] IS NULL OR action = ANY($4)) ",
    "ORDER BY seq DESC LIMIT $2"
);
/// An owner's events, its own and its keys' while they were its:
/// `SELECT_EVENTS_OF_KEY`'s parameters, the owner for the id.
pub(super) const SELECT_EVENTS_OF_OWNER: &str = concat!(
    "SELECT at, action, key_id, actor, detail, owner FROM events ",
    "WHERE owner = $1 ",
    "AND ($3::bigint IS NULL OR at >= $3) AND ($4::text[] IS NULL OR action = ANY($4)) ",
    "ORDER BY seq DESC LIMIT $2"
);
pub(super) const SELECT_ALL_EVENTS: &str =
    "SELECT at, action, key_id, actor, detail, owner FROM events ORDER BY seq";
/// Committed changes only (each statement's own snapshot), of every host.
pub(super) const SELECT_CHANGE_COUNTER: &str = "SELECT n FROM key_changes";
pub(super) const SELECT_PREFIXES: &str = "SELECT DISTINCT prefix FROM keys ORDER BY prefix";
/// Byte order, as SQLite sorts (a locale's collation skips `-`).
pub(super) const SELECT_SERVICES: &str = "SELECT DISTINCT service COLLATE \"C\" AS service \
     FROM keys WHERE service IS NOT NULL ORDER BY service";
/// Locked in `seq` order, so two spenders cannot deadlock; each waits for
/// the other's commit and then reads what it left.
/// The key's id and owner, then its uses as `limits_from_row` reads them
/// (no scopes, no rate) from column 2.
pub(super) const LOCK_REMAINING_USES: &str = "SELECT id, owner, NULL::text, remaining_uses, \
     NULL::bigint, NULL::bigint, refill, refill_uses, refilled_at, NULL::text FROM keys \
     WHERE id = ANY($1) ORDER BY seq FOR UPDATE";
/// Owners after keys, in id order: every spender locks in the same order.
pub(super) const LOCK_OWNER_USES: &str = "SELECT id, NULL::text, remaining_uses, NULL::bigint, \
     NULL::bigint, refill, refill_uses, refilled_at, NULL::text FROM owners \
     WHERE id = ANY($1) ORDER BY id COLLATE \"C\" FOR UPDATE";
pub(super) const UPDATE_OWNER_USES: &str = "UPDATE owners SET remaining_uses = u.r, \
     refilled_at = u.at FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u (id, r, at) \
     WHERE owners.id = u.id";
pub(super) const UPDATE_REMAINING_USES: &str = "UPDATE keys SET remaining_uses = u.r, \
     refilled_at = u.at FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u (id, r, at) \
     WHERE keys.id = u.id";
/// Nobody adds keys while a copy runs in; readers go on.
pub(super) const LOCK_FOR_IMPORT: &str = "LOCK TABLE owners, keys, events IN EXCLUSIVE MODE";
/// Whether a store holds anything: `import` fills empty ones only.
pub(super) const SELECT_OCCUPIED: &str =
    "SELECT EXISTS (SELECT 1 FROM keys) OR EXISTS (SELECT 1 FROM events)";
/// What a change may alter of a stored key (`Transaction::save_key`).
pub(super) const SAVE_KEY: &str = "UPDATE keys SET name = $2, description = $3, service = $4, \
     disabled = $5, expires_at = $6, replaced_by = $7, scopes = $8, remaining_uses = $9, \
     rate_limit = $10, rate_per = $11, owner = $12, meta = $13, refill = $14, \
     refill_uses = $15, refilled_at = $16, allow_ip = $17 WHERE id = $1";
/// A key and its uses, found by its `seq` (both deletions run); the count
/// of keys deleted.
pub(super) const DELETE_KEY: &str = "WITH gone AS (DELETE FROM keys WHERE id = $1 RETURNING seq), \
     uses AS (DELETE FROM usage WHERE seq IN (SELECT seq FROM gone)) \
     SELECT count(*) FROM gone";

/// The columns `owner_from_row` reads: the owner, its limits as
/// `limits_from_row` reads them (no scopes), and how many keys it has.
macro_rules! owner_columns {
    () => {
        "SELECT o.id, o.disabled, o.created_at, NULL::text, o.remaining_uses, o.rate_limit, \
         o.rate_per, o.refill, o.refill_uses, o.refilled_at, o.allow_ip, \
         (SELECT count(*) FROM keys WHERE keys.owner = o.id) FROM owners AS o "
    };
}
pub(super) const SELECT_OWNER: &str = concat!(owner_columns!(), "WHERE o.id = $1");
/// The owner's row stays locked until the transaction ends.
pub(super) const LOCK_OWNER: &str = concat!(owner_columns!(), "WHERE o.id = $1 FOR UPDATE OF o");
/// Byte order, as SQLite sorts.
pub(super) const SELECT_OWNERS: &str = concat!(owner_columns!(), "ORDER BY o.id COLLATE \"C\"");
pub(super) const SELECT_ALL_OWNERS: &str = concat!(owner_columns!(), "ORDER BY o.seq");
/// Adds or changes an owner (`Transaction::save_owner`).
pub(super) const SAVE_OWNER: &str = "INSERT INTO owners (id, disabled, created_at, remaining_uses, \
     rate_limit, rate_per, refill, refill_uses, refilled_at, allow_ip) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (id) DO UPDATE SET disabled = excluded.disabled, \
     remaining_uses = excluded.remaining_uses, rate_limit = excluded.rate_limit, \
     rate_per = excluded.rate_per, refill = excluded.refill, refill_uses = excluded.refill_uses, \
     refilled_at = excluded.refilled_at, allow_ip = excluded.allow_ip";
pub(super) const DELETE_OWNER: &str = "DELETE FROM owners WHERE id = $1";

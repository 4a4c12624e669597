-- Version 6. Owners, metadata, refills and IP rules (docs/src/owners.md).
-- A key may belong to an owner (the application's id of its customer),
-- whose record is made on first use and may carry limits of its own,
-- shared by all its keys. `refill` is the schedule as written (`daily`,
-- `weekly`, `monthly:15`, or an interval in seconds such as `43200s`),
-- `refill_uses` what the uses left return to, `refilled_at` the start of
-- the period last refilled; `allow_ip` the CIDRs, space-separated.
CREATE TABLE owners (
    seq            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    remaining_uses INTEGER,
    refill         TEXT,
    refill_uses    INTEGER,
    refilled_at    INTEGER,
    rate_limit     INTEGER,
    rate_per       INTEGER,
    allow_ip       TEXT
) STRICT;
ALTER TABLE keys ADD COLUMN owner TEXT;
ALTER TABLE keys ADD COLUMN meta TEXT;
ALTER TABLE keys ADD COLUMN refill TEXT;
ALTER TABLE keys ADD COLUMN refill_uses INTEGER;
ALTER TABLE keys ADD COLUMN refilled_at INTEGER;
ALTER TABLE keys ADD COLUMN allow_ip TEXT;
CREATE INDEX keys_by_owner ON keys (owner) WHERE owner IS NOT NULL;
-- An event names the owner of its key when it happened, or is an owner's
-- own (then it names no key, so `key_id` may now be NULL: SQLite changes a
-- column's constraint only by copying the table): `history --owner` reads
-- them by owner.
CREATE TABLE events_v6 (
    seq     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    action  TEXT    NOT NULL,
    key_id  TEXT,
    actor   TEXT    NOT NULL,
    detail  TEXT,
    key_seq INTEGER,
    owner   TEXT
) STRICT;
INSERT INTO events_v6 (seq, at, action, key_id, actor, detail, key_seq)
    SELECT seq, at, action, key_id, actor, detail, key_seq FROM events;
DROP TABLE events;
ALTER TABLE events_v6 RENAME TO events;
CREATE INDEX events_by_key_seq ON events (key_seq);
CREATE INDEX events_by_owner ON events (owner) WHERE owner IS NOT NULL;

-- The schema the migrations arrive at, created at once in a new store
-- (running every step costs a new store tens of milliseconds). A test
-- (`a_new_store_has_the_schema_the_migrations_reach`) keeps the two equal.
CREATE TABLE keys (
    seq            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    hash           BLOB    NOT NULL,
    prefix         TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    description    TEXT,
    service        TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    rotated_from   TEXT,
    replaced_by    TEXT,
    scopes         TEXT,
    remaining_uses INTEGER,
    rate_limit     INTEGER,
    rate_per       INTEGER,
    owner          TEXT,
    meta           TEXT,
    refill         TEXT,
    refill_uses    INTEGER,
    refilled_at    INTEGER,
    allow_ip       TEXT
) STRICT;
CREATE INDEX keys_by_owner ON keys (owner) WHERE owner IS NOT NULL;
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    action  TEXT    NOT NULL,
    key_id  TEXT,
    actor   TEXT    NOT NULL,
    detail  TEXT,
    key_seq INTEGER,
    owner   TEXT
) STRICT;
CREATE INDEX events_by_key_seq ON events (key_seq);
CREATE INDEX events_by_owner ON events (owner) WHERE owner IS NOT NULL;
CREATE TABLE usage (
    seq          INTEGER PRIMARY KEY,
    last_used_at INTEGER NOT NULL,
    use_count    INTEGER NOT NULL
) STRICT;
CREATE TABLE key_changes (n INTEGER NOT NULL) STRICT;
INSERT INTO key_changes (n) VALUES (0);
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
CREATE TABLE rate_subjects (
    subject TEXT    PRIMARY KEY,
    clock   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE rate_leases (
    id         INTEGER PRIMARY KEY,
    subject    TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    until_at   INTEGER NOT NULL,
    count      INTEGER NOT NULL
) STRICT;
CREATE INDEX rate_leases_by_subject ON rate_leases (subject);

-- Version 1. Times are Unix seconds (UTC). `seq` orders keys newest first.
CREATE TABLE keys (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    hash         BLOB    NOT NULL,
    prefix       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    description  TEXT,
    service      TEXT,
    disabled     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    use_count    INTEGER NOT NULL DEFAULT 0,
    rotated_from TEXT,
    replaced_by  TEXT
) STRICT;
CREATE TABLE events (
    seq    INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    action TEXT    NOT NULL,
    key_id TEXT    NOT NULL,
    actor  TEXT    NOT NULL,
    detail TEXT
) STRICT;
CREATE INDEX events_by_key ON events (key_id);

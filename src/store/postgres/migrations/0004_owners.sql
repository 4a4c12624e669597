-- Version 4. Owners, metadata, refills and IP rules (docs/src/owners.md),
-- as SQLite's version 6: a key may belong to an owner, whose record is
-- made on first use and may carry limits of its own, shared by all its
-- keys; an event names its key's owner, or is an owner's own (no key).
CREATE TABLE owners (
    seq            bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             text    NOT NULL UNIQUE,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     bigint  NOT NULL,
    remaining_uses bigint,
    refill         text,
    refill_uses    bigint,
    refilled_at    bigint,
    rate_limit     bigint,
    rate_per       bigint,
    allow_ip       text
);
ALTER TABLE keys ADD COLUMN owner text,
    ADD COLUMN meta text,
    ADD COLUMN refill text,
    ADD COLUMN refill_uses bigint,
    ADD COLUMN refilled_at bigint,
    ADD COLUMN allow_ip text;
CREATE INDEX keys_by_owner ON keys (owner) WHERE owner IS NOT NULL;
ALTER TABLE events ALTER COLUMN key_id DROP NOT NULL,
    ADD COLUMN owner text;
CREATE INDEX events_by_owner ON events (owner) WHERE owner IS NOT NULL;

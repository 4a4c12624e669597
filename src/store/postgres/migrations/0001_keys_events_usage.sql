-- Version 1: the tables of the SQLite store. Times are Unix seconds.
CREATE TABLE keysmith_store (
    application    text    NOT NULL,
    schema_version integer NOT NULL
);
CREATE TABLE keys (
    seq          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           text    NOT NULL UNIQUE,
    hash         bytea   NOT NULL,
    prefix       text    NOT NULL,
    name         text    NOT NULL,
    description  text,
    service      text,
    disabled     boolean NOT NULL DEFAULT false,
    created_at   bigint  NOT NULL,
    expires_at   bigint,
    rotated_from text,
    replaced_by  text
);
CREATE TABLE events (
    seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      bigint NOT NULL,
    action  text   NOT NULL,
    key_id  text   NOT NULL,
    actor   text   NOT NULL,
    detail  text,
    key_seq bigint
);
CREATE INDEX events_by_key_seq ON events (key_seq);
CREATE TABLE usage (
    seq          bigint PRIMARY KEY,
    last_used_at bigint NOT NULL,
    use_count    bigint NOT NULL
);
INSERT INTO keysmith_store (application, schema_version) VALUES ('keysmith', 0);

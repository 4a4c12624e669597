-- Version 7. Rate limits across a fleet (docs/src/fleet-limits.md): the
-- leases of each subject's budget (a key's window, named by its id, or an
-- owner's, `owner:ID`), in milliseconds of the store's clock. A lease
-- promises at most `count` admissions within [granted_at, until_at].
-- `rate_subjects.clock` is the latest time a subject was answered with,
-- so that its clock never goes back.
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

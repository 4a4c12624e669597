-- Version 5. Rate limits across a fleet (docs/src/fleet-limits.md): the
-- leases of each subject's budget (a key's window, named by its id, or an
-- owner's, `owner:ID`), in milliseconds of the server's clock. A lease
-- promises at most `count` admissions within [granted_at, until_at].
-- `rate_subjects.clock` is the latest time a subject was answered with,
-- so that its clock never goes back; its row is also what a lease locks.
CREATE TABLE rate_subjects (
    subject text   PRIMARY KEY,
    clock   bigint NOT NULL
);
CREATE TABLE rate_leases (
    id         bigserial PRIMARY KEY,
    subject    text    NOT NULL,
    granted_at bigint  NOT NULL,
    until_at   bigint  NOT NULL,
    count      integer NOT NULL
);
CREATE INDEX rate_leases_by_subject ON rate_leases (subject);

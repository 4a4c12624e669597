-- Version 2. A counter every change of keys adds one to, first thing in
-- its transaction (uses do not): `serve` reads it to know when what it
-- holds of the keys is stale. First, so that the row's lock is the
-- first a writer takes: writers queue on it and cannot deadlock over
-- key rows.
CREATE TABLE key_changes (n bigint NOT NULL);
INSERT INTO key_changes (n) VALUES (0);

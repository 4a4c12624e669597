-- Version 4. A counter every change of keys adds one to, in the same
-- transaction (uses do not): `serve` reads it to know when what it
-- holds of the keys is stale, without being told of every use.
CREATE TABLE key_changes (n INTEGER NOT NULL) STRICT;
INSERT INTO key_changes (n) VALUES (0);

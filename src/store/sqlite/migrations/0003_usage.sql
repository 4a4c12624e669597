-- Version 3. Uses live in a narrow table of their own, keyed by the key's
-- `seq`: recording a use rewrites a few bytes on a page of used keys
-- instead of a page of whole key rows, and batches write in `seq` order.
CREATE TABLE usage (
    seq          INTEGER PRIMARY KEY,
    last_used_at INTEGER NOT NULL,
    use_count    INTEGER NOT NULL
) STRICT;
INSERT INTO usage (seq, last_used_at, use_count)
    SELECT seq, coalesce(last_used_at, created_at), use_count FROM keys
    WHERE use_count > 0 OR last_used_at IS NOT NULL;
ALTER TABLE keys DROP COLUMN last_used_at;
ALTER TABLE keys DROP COLUMN use_count;

-- Version 2. Events find their key by its `seq`: bulk creation appends to
-- this index, where an index on the random id cost a B-tree search per
-- key. Events of deleted keys (no `seq`) are found by `key_id`.
ALTER TABLE events ADD COLUMN key_seq INTEGER;
UPDATE events SET key_seq = (SELECT seq FROM keys WHERE keys.id = events.key_id);
DROP INDEX events_by_key;
CREATE INDEX events_by_key_seq ON events (key_seq);

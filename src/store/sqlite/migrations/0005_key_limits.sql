-- Version 5. What a key may do (docs/src/limits.md): its scopes (space-separated),
-- the VALID verifications it has left and its rate limit; NULL for none.
ALTER TABLE keys ADD COLUMN scopes TEXT;
ALTER TABLE keys ADD COLUMN remaining_uses INTEGER;
ALTER TABLE keys ADD COLUMN rate_limit INTEGER;
ALTER TABLE keys ADD COLUMN rate_per INTEGER;

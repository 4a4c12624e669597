-- Version 3. What a key may do (docs/src/limits.md): its scopes (space-separated),
-- the VALID verifications it has left and its rate limit; NULL for none.
ALTER TABLE keys ADD COLUMN scopes text,
    ADD COLUMN remaining_uses bigint,
    ADD COLUMN rate_limit bigint,
    ADD COLUMN rate_per bigint;

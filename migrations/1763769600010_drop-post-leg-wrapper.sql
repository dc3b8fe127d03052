-- Up Migration

-- post_leg keeps one signature, the 15-argument one; its body lives in db/functions/post_leg.sql.
--
-- The 13-argument overload was a wrapper kept by 1763769600005 for workers older than
-- 1763769600003 during that rolling deploy. Nothing calls it any more: the wallet has passed all
-- 15 arguments since 1763769600003 and names them since this change (the SQL functions in
-- db/functions/ too), and every deploy since 1763769600005 (0006, 0008, 0009) replaced every
-- process, so no worker of that age can be running. The version before this one calls the
-- 15-argument post_leg by position, which is untouched, so old and new processes can serve side
-- by side during this rolling deploy. Were a forgotten caller of the 13 arguments left, it would
-- fail loudly (function does not exist) and move no money; it could not reach the wrong overload.
drop function post_leg(text, text, text, char, bigint, text, text, boolean, text, text, text, text, boolean);

-- Down Migration
-- Nothing to restore: no code of any version still running calls the 13-argument wrapper (see
-- above), and re-creating it here would restate a function body in a migration, which belongs in
-- db/functions/ alone. Going down leaves post_leg with its one 15-argument signature.

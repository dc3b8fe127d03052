-- Up Migration

-- A commit-ordered time for every entry. created_at is now(), the transaction's start: a posting
-- that started first but waited on the wallet's row lock commits later, with an earlier
-- created_at and a balance_after that already includes the other one, so "the balance at
-- instant T" read by created_at could be a balance that never existed. posted_at is taken when
-- the entry is written, under the wallet's row lock (post_leg inserts entries after it updated
-- the balances), so for each account it follows the order the balances changed in.
--
-- No table rewrite: the column is added without a default and the default set afterwards
-- (a volatile default on ADD COLUMN would rewrite every row). Entries written before this
-- migration have no posted_at; every read uses coalesce(posted_at, created_at).
alter table entries add column posted_at timestamptz;
alter table entries alter column posted_at set default clock_timestamp();

-- Point-in-time balances and time-bounded history: the newest entry of an account at or before
-- an instant is one index probe.
create index entries_account_posted on entries (account_id, (coalesce(posted_at, created_at)) desc, entry_id desc);

-- Down Migration
drop index entries_account_posted;
alter table entries drop column posted_at;

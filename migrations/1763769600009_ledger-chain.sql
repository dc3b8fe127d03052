-- Up Migration

-- A ledger that proves itself (issue 8): every account's entries form a hash chain, and every
-- SNAPSHOT_EVERY entries of an account a snapshot records its balance replayed from the entries.
--
-- One chain per account, not one per shard: each entry's hash covers its own content and the
-- hash of the account's previous entry. A shard-wide chain would make every posting of the shard
-- wait for the one before it, on one row; per account it costs no new serialization, because
-- post_leg already holds the row lock of both accounts it writes (the wallet's, by its UPDATE,
-- and the shard's clearing/settlement/fx row, updated last) when it inserts their entries, and
-- entries are written only by post_leg.
--
-- Why the trigger sees the previous entry: a posting to an account waits on the account's row
-- lock, which its previous poster holds until it commits. Under READ COMMITTED every statement of
-- a volatile PL/pgSQL function (the trigger's SELECT included) takes a fresh snapshot, so once the
-- lock is ours the previous entry is committed and visible. Under REPEATABLE READ or SERIALIZABLE
-- the balance UPDATE itself would fail (concurrent update) before any entry were written. The
-- unique index on (account_id, account_seq) turns the one way left to fork a chain, two inserts
-- on an account without its lock (direct SQL), into a unique_violation instead of a silent fork.
--
-- What the chain catches: an entry's content changed (its hash no longer matches), an entry
-- deleted (a gap in account_seq, and the next entry's hash names another predecessor), an entry
-- inserted behind the trigger's back (no hash), a truncated tail (the last entry's balance_after
-- is not accounts.balance). Someone able to rewrite the table can recompute a whole tail of
-- hashes; snapshots (which keep the hash at their entry) and reconciliation runs narrow that, an
-- anchor kept outside the database would close it.

-- Adding nullable columns without defaults rewrites nothing.
alter table entries add column account_seq bigint;
alter table entries add column hash bytea;
alter table entries add constraint entries_chain_shape
  check ((account_seq is null) = (hash is null) and (account_seq is null or (account_seq > 0 and octet_length(hash) = 32)));

-- The wallet's ledger settings, one row per shard, written from the configuration by
-- `npm start` and `npm run db:setup` (db/migrate.ts): the trigger below reads it, so a change
-- applies to every session at once, and tests set small values on their own shard databases.
create table ledger_settings (
  only_row       boolean primary key default true check (only_row),
  snapshot_every integer not null default 1000 check (snapshot_every between 1 and 1000000)
);
insert into ledger_settings default values;

-- An account's balance at one entry, replayed from the entries (the previous snapshot plus the
-- entries after it, never copied from balance_after), with that entry's hash. The latest snapshot
-- plus the entries after it is the balance, reading O(SNAPSHOT_EVERY) entries at most.
create table account_snapshots (
  account_id  text not null,
  account_seq bigint not null check (account_seq > 0),
  entry_id    bigint not null,
  balance     bigint not null,
  hash        bytea not null check (octet_length(hash) = 32),
  taken_at    timestamptz not null default clock_timestamp(),
  primary key (account_id, account_seq)
);
create trigger account_snapshots_append_only before update or delete on account_snapshots
  for each row execute function refuse_ledger_rewrite();
create trigger account_snapshots_no_truncate before truncate on account_snapshots
  for each statement execute function refuse_ledger_rewrite();

-- The one definition of an entry's hash, used by the trigger, the backfill, `npm run ledger --
-- verify` and reconciliation:
--   sha256(previous hash || convert_to(canonical text, 'UTF8'))
-- where the previous hash is the account's previous entry's (32 zero bytes for its first entry)
-- and the canonical text is these fields joined by '|':
--   wallet-entry-v1 (a version tag, so the layout can change), entry_id, account_seq, amount,
--   balance_after, created_at and posted_at in microseconds since 1970 (posted_at null: '-'),
--   then transfer_id, leg, account_id, currency, kind, workflow_id and run_id, each as its length
--   in characters, '|', and itself.
-- Read left to right it parses one way only: numbers hold no '|', and each text field says how
-- long it is. Times are integers, so the session's TimeZone and DateStyle cannot change a hash.
-- Every field is not null (account_seq is set before hashing; posted_at is spelled out), so
-- concat_ws, which skips nulls, drops none. One convert_to over one text: five times faster than
-- a length-prefixed binary layout built field by field (measured: about 2 us against 11 us).
create function entry_chain_hash(p_previous bytea, e entries) returns bytea
language sql stable parallel safe as $$
  select sha256(
    coalesce(p_previous, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
    || convert_to(concat_ws('|', 'wallet-entry-v1',
         e.entry_id, e.account_seq, e.amount, e.balance_after,
         (extract(epoch from e.created_at) * 1000000)::bigint,
         coalesce((extract(epoch from e.posted_at) * 1000000)::bigint::text, '-'),
         length(e.transfer_id), e.transfer_id, length(e.leg), e.leg, length(e.account_id), e.account_id,
         length(e.currency), e.currency, length(e.kind), e.kind, length(e.workflow_id), e.workflow_id, length(e.run_id), e.run_id),
       'UTF8')
  )
$$;

-- Links each new entry to its account's chain, and takes a snapshot every snapshot_every entries.
-- Runs under the account's row lock (see the top of this file). The previous entry is the newest
-- chained one: an entry inserted with triggers off has no hash and is skipped (verify reports it,
-- chain_unchained_entries() below links it), so postings go on meanwhile.
create function chain_entry() returns trigger
language plpgsql as $$
declare
  v_previous_seq bigint;
  v_previous_hash bytea;
  v_snapshot_every integer;
  v_snapshot_entry_id bigint;
  v_snapshot_balance bigint;
begin
  -- An index probe of entries_account_seq. (Two plain statements measured cheaper than one
  -- joining the setting in.)
  select e.account_seq, e.hash into v_previous_seq, v_previous_hash
    from entries e
   where e.account_id = new.account_id and e.account_seq is not null
   order by e.account_seq desc
   limit 1;
  new.account_seq := coalesce(v_previous_seq, 0) + 1;
  new.hash := entry_chain_hash(v_previous_hash, new);

  select s.snapshot_every into v_snapshot_every from ledger_settings s;
  if new.account_seq % v_snapshot_every = 0 then
    -- Replayed from the previous snapshot: at most snapshot_every entries (while the setting is unchanged).
    select s.entry_id, s.balance into v_snapshot_entry_id, v_snapshot_balance
      from account_snapshots s
     where s.account_id = new.account_id
     order by s.account_seq desc
     limit 1;
    insert into account_snapshots (account_id, account_seq, entry_id, balance, hash)
    select new.account_id, new.account_seq, new.entry_id,
           coalesce(v_snapshot_balance, 0) + coalesce(sum(e.amount), 0) + new.amount, new.hash
      from entries e
     where e.account_id = new.account_id and e.entry_id > coalesce(v_snapshot_entry_id, 0);
  end if;
  return new;
end $$;

-- Fires after any other BEFORE INSERT trigger (they run in name order), so it hashes the row as stored.
create trigger zz_entries_chain before insert on entries
  for each row execute function chain_entry();

-- Links entries that have no hash (an existing ledger, a bulk load with triggers off) into their
-- accounts' chains: from each such account's first unchained entry on, in entry_id order, every
-- entry is numbered and hashed again, and the snapshots of that stretch are taken again. It
-- rewrites entries and snapshots, so it runs only with their append-only triggers off: in this
-- migration, or in a session with session_replication_role = replica. Returns the entries linked.
create function chain_unchained_entries() returns bigint
language plpgsql as $$
declare
  v_batch_max constant integer := 10000;
  v_snapshot_every integer := (select s.snapshot_every from ledger_settings s);
  v_account record;
  v_entry entries;
  v_seq bigint;
  v_hash bytea;
  v_balance bigint;
  v_ids bigint[] := '{}';
  v_seqs bigint[] := '{}';
  v_hashes bytea[] := '{}';
  v_linked bigint := 0;
begin
  for v_account in
    select e.account_id, min(e.entry_id) as first_entry_id from entries e where e.hash is null group by e.account_id order by e.account_id
  loop
    select e.account_seq, e.hash into v_seq, v_hash
      from entries e
     where e.account_id = v_account.account_id and e.entry_id < v_account.first_entry_id and e.account_seq is not null
     order by e.entry_id desc
     limit 1;
    v_seq := coalesce(v_seq, 0);
    select coalesce(sum(e.amount), 0) into v_balance
      from entries e where e.account_id = v_account.account_id and e.entry_id < v_account.first_entry_id;
    -- Entries after the first unchained one were numbered without it: their numbers go first, so
    -- the new ones never meet the old in the unique index.
    update entries set account_seq = null, hash = null
     where account_id = v_account.account_id and entry_id > v_account.first_entry_id and hash is not null;
    delete from account_snapshots where account_id = v_account.account_id and entry_id >= v_account.first_entry_id;
    for v_entry in
      select * from entries e where e.account_id = v_account.account_id and e.entry_id >= v_account.first_entry_id order by e.entry_id
    loop
      v_seq := v_seq + 1;
      v_entry.account_seq := v_seq;
      v_hash := entry_chain_hash(v_hash, v_entry);
      v_balance := v_balance + v_entry.amount;
      v_ids := v_ids || v_entry.entry_id;
      v_seqs := v_seqs || v_seq;
      v_hashes := v_hashes || v_hash;
      if v_seq % v_snapshot_every = 0 then
        insert into account_snapshots (account_id, account_seq, entry_id, balance, hash)
        values (v_account.account_id, v_seq, v_entry.entry_id, v_balance, v_hash);
      end if;
      -- Written in batches, one UPDATE each: a row at a time took 1.6 times as long.
      if cardinality(v_ids) >= v_batch_max then
        update entries e set account_seq = u.seq, hash = u.hash
          from unnest(v_ids, v_seqs, v_hashes) as u (entry_id, seq, hash)
         where e.entry_id = u.entry_id;
        v_linked := v_linked + cardinality(v_ids);
        v_ids := '{}'; v_seqs := '{}'; v_hashes := '{}';
      end if;
    end loop;
    update entries e set account_seq = u.seq, hash = u.hash
      from unnest(v_ids, v_seqs, v_hashes) as u (entry_id, seq, hash)
     where e.entry_id = u.entry_id;
    v_linked := v_linked + cardinality(v_ids);
    v_ids := '{}'; v_seqs := '{}'; v_hashes := '{}';
  end loop;
  return v_linked;
end $$;

-- The existing ledger joins the chain. Disabling the trigger is part of this transaction, which
-- holds the table's lock until it commits: no one else ever sees it off.
alter table entries disable trigger entries_append_only;
select chain_unchained_entries();
alter table entries enable trigger entries_append_only;

-- Built after the backfill, once. Also the chain's walking order (verify) and the trigger's probe.
-- Partial: an entry written with the triggers off (a bulk load) costs no insert into it.
create unique index entries_account_seq on entries (account_id, account_seq) where account_seq is not null;

-- Down Migration
drop trigger zz_entries_chain on entries;
drop function chain_unchained_entries();
drop function chain_entry();
drop function entry_chain_hash(bytea, entries);
drop table account_snapshots;
drop table ledger_settings;
drop index entries_account_seq;
alter table entries drop constraint entries_chain_shape;
alter table entries drop column hash;
alter table entries drop column account_seq;

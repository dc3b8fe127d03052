-- Links each new entry to its account's chain, and takes a snapshot every snapshot_every entries
-- (ledger_settings). Runs under the account's row lock (see migration 1763769600009). The previous
-- entry is the newest chained one: an entry inserted with triggers off has no hash and is skipped
-- (verify reports it, chain_unchained_entries links it), so postings go on meanwhile. Its trigger
-- is named zz_entries_chain so it fires after any other BEFORE INSERT trigger and hashes the row
-- as stored.
create or replace function chain_entry()
returns trigger
language plpgsql
as $$
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

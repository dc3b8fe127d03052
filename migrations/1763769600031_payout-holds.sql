-- Up Migration

-- Holds as ledger postings (ledger/payout-holds.ts). A payout reserves its amount at once: the
-- `hold` leg moves it from the customer's wallet to the shard's `payouts_in_flight:<currency>`
-- system account. Then exactly one of:
--   `release`: back to the customer (canceled, or returned before settlement);
--   `settle`:  on to the shard's settlement account (the money left with the bank);
-- and after `settle`, possibly `return`: settlement back to the customer (a late bank return).
-- Each leg is one posting keyed (payout_id, leg) in postings, balanced on its own, on the chain.
-- The lists are read from the constraints as they stand and extended (as 1763769600012 does).
create or replace function pg_temp.extend_check(p_table text, p_constraint text, p_values text[])
returns void language plpgsql as $$
declare
  v_definition text;
  v_value text;
  v_added text := '';
begin
  select pg_get_constraintdef(oid) into strict v_definition
    from pg_constraint where conname = p_constraint and conrelid = p_table::regclass;
  if v_definition not like '%])))' then
    raise exception '% has an unexpected shape: %', p_constraint, v_definition;
  end if;
  foreach v_value in array p_values loop
    v_added := v_added || ', ' || quote_literal(v_value) || '::text';
  end loop;
  execute format('alter table %I drop constraint %I', p_table, p_constraint);
  execute format('alter table %I add constraint %I ', p_table, p_constraint)
    || left(v_definition, length(v_definition) - 4) || v_added || '])))';
end $$;
select pg_temp.extend_check('postings', 'postings_leg_check', array['hold', 'release', 'settle', 'return']);
select pg_temp.extend_check('entries', 'entries_kind_check',
                            array['payout_hold', 'payout_release', 'payout_return', 'payouts_in_flight']);
select pg_temp.extend_check('accounts', 'accounts_kind_check', array['payouts_in_flight']);

-- One row per hold that posted, and where it stands: the index of open holds (a balance's
-- pending_out, reconciliation's check that payouts_in_flight holds exactly the open holds) and
-- the row every later leg of the payout locks, so release and settle cannot both happen.
-- Written only by the leg functions, in the leg's own transaction.
create table payout_holds (
  payout_id text primary key,
  user_id text not null references users (user_id),
  currency char(3) not null,
  amount bigint not null check (amount > 0),
  status text not null default 'held' check (status in ('held', 'released', 'settled', 'returned')),
  held_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index payout_holds_open on payout_holds (user_id, currency) include (amount) where status = 'held';

-- The daily outgoing limit counts holds (outgoing_last_day) and subtracts released ones, so the
-- partial index its reads use covers those kinds too (a superset of the old list: its reads of
-- transfers and withdrawals still match it).
create index entries_outgoing_recent_v2 on entries (account_id, created_at) include (amount, kind)
  where kind in ('transfer_out', 'withdrawal', 'refund', 'payout_hold', 'payout_release');
drop index entries_outgoing_recent;
alter index entries_outgoing_recent_v2 rename to entries_outgoing_recent;

-- Down Migration
-- Going down fails (the checks do not hold) while a payout's posting exists: the ledger is append-only.
create index entries_outgoing_recent_v1 on entries (account_id, created_at) include (amount, kind)
  where kind in ('transfer_out', 'withdrawal', 'refund');
drop index entries_outgoing_recent;
alter index entries_outgoing_recent_v1 rename to entries_outgoing_recent;
drop table payout_holds;
create or replace function pg_temp.shrink_check(p_table text, p_constraint text, p_values text[])
returns void language plpgsql as $$
declare
  v_definition text;
  v_value text;
begin
  select pg_get_constraintdef(oid) into strict v_definition
    from pg_constraint where conname = p_constraint and conrelid = p_table::regclass;
  foreach v_value in array p_values loop
    v_definition := replace(v_definition, ', ' || quote_literal(v_value) || '::text', '');
  end loop;
  execute format('alter table %I drop constraint %I', p_table, p_constraint);
  execute format('alter table %I add constraint %I ', p_table, p_constraint) || v_definition;
end $$;
select pg_temp.shrink_check('accounts', 'accounts_kind_check', array['payouts_in_flight']);
select pg_temp.shrink_check('entries', 'entries_kind_check',
                            array['payout_hold', 'payout_release', 'payout_return', 'payouts_in_flight']);
select pg_temp.shrink_check('postings', 'postings_leg_check', array['hold', 'release', 'settle', 'return']);

-- Up Migration

-- External bank accounts a wallet pays out to, on the owner's shard. The rail is data: `rail`
-- names it and `details` holds its own fields (ACH: routing number, account number, account
-- type), so a second rail (SEPA: IBAN and BIC) is a new value here and a new check, not a new
-- table or a change to the workflows, which carry only bank_account_id.
-- The account number is stored whole (the rail needs it to build a file) and shown only as
-- `last4`; the duplicate check runs on `fingerprint` (a SHA-256 of the rail's identifying
-- fields), so no unique-violation message can ever carry the number.
create table bank_accounts (
  bank_account_id text primary key check (bank_account_id ~ '^ba_[0-9a-f]{32}$'),
  user_id text not null references users (user_id),
  rail text not null check (rail in ('ach')),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  holder_name text not null check (char_length(holder_name) between 1 and 100),
  details jsonb not null,
  last4 text not null check (last4 ~ '^[0-9A-Z]{4}$'),
  fingerprint text not null check (fingerprint ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  created_by text,
  deleted_at timestamptz,
  deleted_by text,
  check (rail <> 'ach' or (
    currency = 'USD'
    and details ->> 'routing_number' ~ '^[0-9]{9}$'
    and details ->> 'account_number' ~ '^[0-9]{4,17}$'
    and details ->> 'account_type' in ('checking', 'savings')))
);

-- One live registration per account and user: registering it again finds this row.
create unique index bank_accounts_live on bank_accounts (user_id, fingerprint) where deleted_at is null;
-- The owner's list (live ones, oldest first).
create index bank_accounts_user on bank_accounts (user_id, created_at) where deleted_at is null;

-- Ops registering or removing a bank account are audited, the account as the target. The lists
-- are read from the constraints as they stand and extended (as 1763769600012 does), so this
-- composes with any other migration that extends them.
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
select pg_temp.extend_check('ops_audit', 'ops_audit_action_check', array['bank_account_add', 'bank_account_remove']);
select pg_temp.extend_check('ops_audit', 'ops_audit_target_type_check', array['bank_account']);

-- Holds as ledger postings (ledger/payout-holds.ts). A payout reserves its amount at once: the
-- `hold` leg moves it from the customer's wallet to the shard's `payouts_in_flight:<currency>`
-- system account. Then exactly one of:
--   `release`: back to the customer (canceled, or returned before settlement);
--   `settle`:  on to the shard's settlement account (the money left with the bank);
-- and after `settle`, possibly `return`: settlement back to the customer (a late bank return).
-- Each leg is one posting keyed (payout_id, leg) in postings, balanced on its own, on the chain.
-- The lists are extended with pg_temp.extend_check above.
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
-- The audit is append-only: going down fails (the checks do not hold) while a bank account row is in it.
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
-- Going down also fails (the checks do not hold) while a payout's posting exists: the ledger is append-only.
create index entries_outgoing_recent_v1 on entries (account_id, created_at) include (amount, kind)
  where kind in ('transfer_out', 'withdrawal', 'refund');
drop index entries_outgoing_recent;
alter index entries_outgoing_recent_v1 rename to entries_outgoing_recent;
drop table payout_holds;
select pg_temp.shrink_check('accounts', 'accounts_kind_check', array['payouts_in_flight']);
select pg_temp.shrink_check('entries', 'entries_kind_check',
                            array['payout_hold', 'payout_release', 'payout_return', 'payouts_in_flight']);
select pg_temp.shrink_check('postings', 'postings_leg_check', array['hold', 'release', 'settle', 'return']);
select pg_temp.shrink_check('ops_audit', 'ops_audit_action_check', array['bank_account_add', 'bank_account_remove']);
select pg_temp.shrink_check('ops_audit', 'ops_audit_target_type_check', array['bank_account']);
drop table bank_accounts;

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
select pg_temp.shrink_check('ops_audit', 'ops_audit_action_check', array['bank_account_add', 'bank_account_remove']);
select pg_temp.shrink_check('ops_audit', 'ops_audit_target_type_check', array['bank_account']);
drop table bank_accounts;

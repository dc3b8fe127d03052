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

-- Ops registering or removing a bank account are audited, the account as the target. Each list
-- is written out whole: this migration runs after every other that extends it.
alter table ops_audit drop constraint ops_audit_action_check,
  add constraint ops_audit_action_check check (action in ('deposit', 'withdrawal', 'transfer', 'freeze', 'unfreeze', 'reverse', 'reverse_refused', 'approve', 'reject', 'limit_change', 'close', 'fx_rate_set', 'refused', 'retry', 'bank_account_add', 'bank_account_remove'));
alter table ops_audit drop constraint ops_audit_target_type_check,
  add constraint ops_audit_target_type_check check (target_type in ('user', 'transfer', 'fx_rate', 'bank_account'));

-- Holds as ledger postings (ledger/payout-holds.ts). A payout reserves its amount at once: the
-- `hold` leg moves it from the customer's wallet to the shard's `payouts_in_flight:<currency>`
-- system account. Then exactly one of:
--   `release`: back to the customer (canceled, or returned before settlement);
--   `settle`:  on to the shard's settlement account (the money left with the bank);
-- and after `settle`, possibly `return`: settlement back to the customer (a late bank return).
-- Each leg is one posting keyed (payout_id, leg) in postings, balanced on its own, on the chain.
alter table postings drop constraint postings_leg_check,
  add constraint postings_leg_check check (leg in ('debit', 'credit', 'refund', 'reversal_debit', 'reversal_credit', 'hold', 'release', 'settle', 'return'));
alter table entries drop constraint entries_kind_check,
  add constraint entries_kind_check check (kind in ('deposit', 'withdrawal', 'transfer_out', 'transfer_in', 'refund', 'reversal_out', 'reversal_in', 'clearing', 'settlement', 'fx', 'payout_hold', 'payout_release', 'payout_return', 'payouts_in_flight'));
alter table accounts drop constraint accounts_kind_check,
  add constraint accounts_kind_check check (kind in ('customer', 'clearing', 'settlement', 'fx', 'payouts_in_flight'));

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
-- Going down also fails (the checks do not hold) while a payout's posting exists: the ledger is append-only.
create index entries_outgoing_recent_v1 on entries (account_id, created_at) include (amount, kind)
  where kind in ('transfer_out', 'withdrawal', 'refund');
drop index entries_outgoing_recent;
alter index entries_outgoing_recent_v1 rename to entries_outgoing_recent;
drop table payout_holds;
alter table accounts drop constraint accounts_kind_check,
  add constraint accounts_kind_check check (kind in ('customer', 'clearing', 'settlement', 'fx'));
alter table entries drop constraint entries_kind_check,
  add constraint entries_kind_check check (kind in ('deposit', 'withdrawal', 'transfer_out', 'transfer_in', 'refund', 'reversal_out', 'reversal_in', 'clearing', 'settlement', 'fx'));
alter table postings drop constraint postings_leg_check,
  add constraint postings_leg_check check (leg in ('debit', 'credit', 'refund', 'reversal_debit', 'reversal_credit'));
alter table ops_audit drop constraint ops_audit_action_check,
  add constraint ops_audit_action_check check (action in ('deposit', 'withdrawal', 'transfer', 'freeze', 'unfreeze', 'reverse', 'reverse_refused', 'approve', 'reject', 'limit_change', 'close', 'fx_rate_set', 'refused', 'retry'));
alter table ops_audit drop constraint ops_audit_target_type_check,
  add constraint ops_audit_target_type_check check (target_type in ('user', 'transfer', 'fx_rate'));
drop table bank_accounts;

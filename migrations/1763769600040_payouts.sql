-- Up Migration

-- A payout's durable record, on its owner's shard (api/payout-service.ts writes it before the
-- workflow starts; workflows/payout.ts moves its status). It carries bank_account_id, never the
-- account number. The id is a digest of (owner, idempotency key), like a transfer's, and the
-- key of the payout's ledger postings (hold, release, settle, return).
create table payouts (
  payout_id text primary key check (payout_id ~ '^po_[0-9a-f]{32}$'),
  user_id text not null references users (user_id),
  bank_account_id text not null references bank_accounts (bank_account_id),
  idempotency_key text not null,
  request_hash text not null,
  rail text not null check (rail in ('ach')),
  currency char(3) not null,
  amount bigint not null check (amount > 0),
  status text not null default 'ACCEPTED' check (status in
    ('ACCEPTED', 'PENDING_REVIEW', 'HELD', 'BATCHED', 'SUBMITTED', 'SETTLED', 'RETURNED', 'CANCELED', 'FAILED')),
  failure_reason text,
  return_code text check (return_code ~ '^R[0-9]{2}$'),
  -- Set when a cutoff claims the payout (BATCHED): its file on the reference shard and its entry's trace number.
  file_sequence bigint,
  trace_number text check (trace_number ~ '^[0-9]{15}$'),
  initiated_by text,
  created_at timestamptz not null default now(),
  status_changed_at timestamptz not null default now(),
  settled_at timestamptz,
  return_window_ends_at timestamptz,
  unique (user_id, idempotency_key),
  check ((status = 'FAILED') = (failure_reason is not null)),
  check ((status = 'RETURNED') = (return_code is not null))
);
-- The cutoff's collection: payouts waiting for a file, oldest first.
create index payouts_waiting on payouts (created_at) where status = 'HELD';
-- The ops list of payouts stuck before a final state, oldest change first.
create index payouts_open on payouts (status_changed_at)
  where status in ('ACCEPTED', 'PENDING_REVIEW', 'HELD', 'BATCHED', 'SUBMITTED');

-- The wallet's outgoing payout files, on the reference shard (global, like fx_rates). A file is
-- recorded whole (its entries and trace numbers, its creation time and effective date) before it
-- is uploaded, so a rebuild after a crash gives the same bytes and the bank's duplicate check
-- recognizes it. file_sequence and first_entry_sequence are the durable counters of
-- docs/rails.md: the next file starts where the last recorded one ended.
create table payout_files (
  file_sequence bigint primary key check (file_sequence >= 1),
  rail text not null check (rail in ('ach')),
  status text not null default 'COLLECTING' check (status in ('COLLECTING', 'RECORDED', 'UPLOADED', 'SETTLED', 'REFUSED')),
  first_entry_sequence bigint check (first_entry_sequence >= 0),
  entry_count int check (entry_count >= 1),
  total_minor bigint check (total_minor >= 1),
  file_created_at timestamptz,
  effective_date date,
  file_name text,
  bank_file_id text,
  refusal text,
  created_at timestamptz not null default now(),
  recorded_at timestamptz,
  uploaded_at timestamptz,
  -- When every payout of the file heard it was submitted (or that the file was refused): until
  -- then the next cutoff finishes this file before it collects another.
  announced_at timestamptz,
  check ((status = 'COLLECTING') = (first_entry_sequence is null))
);
-- One file at a time is being collected (the cutoff Schedule skips overlapping runs; this makes it a rule).
create unique index payout_files_one_collecting on payout_files ((true)) where status = 'COLLECTING';

-- A recorded file's entries in file order: the payout, its owner (whose shard keeps the payout)
-- and the trace number a return will quote.
create table payout_file_entries (
  file_sequence bigint not null references payout_files (file_sequence),
  position int not null check (position >= 0),
  payout_id text not null unique,
  user_id text not null,
  amount bigint not null check (amount > 0),
  trace_number text not null unique,
  settled_signaled_at timestamptz,
  primary key (file_sequence, position)
);

-- Every return the bank sent, once (by the return entry's own trace number): the poller's
-- idempotency and its audit. outcome: applied (signaled to its payout), unknown_trace (no payout
-- of ours quotes it: logged, moves nothing), closed (the payout's workflow had ended).
create table payout_returns (
  return_trace_number text primary key,
  original_trace_number text not null,
  return_code text not null,
  amount bigint not null,
  payout_id text,
  outcome text not null default 'received' check (outcome in ('received', 'applied', 'unknown_trace', 'closed')),
  bank_cursor text not null,
  received_at timestamptz not null default now(),
  decided_at timestamptz
);

-- A file from the bank the rail refused (malformed, does not add up): logged, kept here, skipped.
create table refused_bank_files (
  bank_cursor text primary key,
  file_name text not null,
  reason text not null,
  received_at timestamptz not null default now()
);

-- Durable cursors over the bank's outgoing-files feed, one per reader (pay-outs' returns here;
-- pay-ins keep their own).
create table bank_feed_cursors (
  reader text primary key,
  cursor text not null check (cursor ~ '^[0-9]{1,18}$'),
  updated_at timestamptz not null default now()
);

-- An operator's cancel of a payout is audited, the payout as the target. Each list is written out whole.
alter table ops_audit drop constraint ops_audit_action_check,
  add constraint ops_audit_action_check check (action in ('deposit', 'withdrawal', 'transfer', 'freeze', 'unfreeze', 'reverse', 'reverse_refused', 'approve', 'reject', 'limit_change', 'close', 'fx_rate_set', 'refused', 'retry', 'bank_account_add', 'bank_account_remove', 'payout_cancel'));
alter table ops_audit drop constraint ops_audit_target_type_check,
  add constraint ops_audit_target_type_check check (target_type in ('user', 'transfer', 'fx_rate', 'bank_account', 'payout'));

-- Down Migration
-- The audit is append-only: going down fails (the checks do not hold) while a payout cancel is in it.
alter table ops_audit drop constraint ops_audit_action_check,
  add constraint ops_audit_action_check check (action in ('deposit', 'withdrawal', 'transfer', 'freeze', 'unfreeze', 'reverse', 'reverse_refused', 'approve', 'reject', 'limit_change', 'close', 'fx_rate_set', 'refused', 'retry', 'bank_account_add', 'bank_account_remove'));
alter table ops_audit drop constraint ops_audit_target_type_check,
  add constraint ops_audit_target_type_check check (target_type in ('user', 'transfer', 'fx_rate', 'bank_account'));
drop table bank_feed_cursors;
drop table refused_bank_files;
drop table payout_returns;
drop table payout_file_entries;
drop table payout_files;
drop table payouts;

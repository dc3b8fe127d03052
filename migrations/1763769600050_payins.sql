-- Up Migration

-- Pay-ins (issue 19 §4, docs/rails.md "Money in"). Every shard gets these tables (one schema for
-- all), but the first four are used on the reference shard only (domain/shard-routing.ts), as
-- fx_rates is: a virtual account number and a bank trace number name no user's shard until they
-- are looked up, so the one place that can say "this number is taken" or "this entry was seen"
-- is one shard.

-- Each wallet's account number at our bank (its routing number is the bank's, BANK_ROUTING).
-- Allocated on first read of the funding instructions from virtual_account_sequence, with a
-- Luhn check digit (domain/virtual-accounts.ts); the primary key is what makes a number one
-- wallet's across every shard, and user_id unique gives a wallet one number.
create table virtual_accounts (
  account_number text primary key check (account_number ~ '^7[0-9]{11}$'),
  user_id text not null unique check (user_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  created_at timestamptz not null default now()
);
create sequence virtual_account_sequence maxvalue 9999999999;

-- The pay-in poller's record of every bank file it finished, in the bank's cursor order: the
-- poller's durable cursor is the greatest cursor here. A file the rail refused is kept with its
-- reason (ops read it: GET /v1/ops/payins/files), so the cursor moves past it and nothing waits on it.
create table payin_files (
  cursor bigint primary key check (cursor > 0),
  file_name text not null,
  outcome text not null check (outcome in ('processed', 'refused')),
  reason text check (char_length(reason) <= 2000),
  credits int not null default 0 check (credits >= 0),
  returned int not null default 0 check (returned >= 0),
  duplicates int not null default 0 check (duplicates >= 0),
  conflicts int not null default 0 check (conflicts >= 0),
  processed_at timestamptz not null default now(),
  check ((outcome = 'refused') = (reason is not null))
);

-- Return files of received entries the wallet sends back to the bank (R02, R03), recorded
-- whole before they are uploaded: after a crash the same bytes go again, and the bank knows them
-- by their digest.
create table payin_return_files (
  file_sequence bigint primary key check (file_sequence > 0),
  file_name text not null unique,
  contents text not null,
  entry_count int not null check (entry_count > 0),
  total_minor bigint not null check (total_minor > 0),
  created_at timestamptz not null default now(),
  uploaded_at timestamptz,
  bank_file_id text,
  -- The bank refused the file (422): sending it again cannot help, so it is set aside with the
  -- bank's reason, its credits stay return_pending in it for a person, and later returns go on.
  refused_at timestamptz,
  refusal text check (char_length(refusal) <= 2000),
  check ((refused_at is null) = (refusal is null)),
  check (uploaded_at is null or refused_at is null)
);
create sequence payin_return_file_sequence;
-- Trace numbers of the return entries the wallet originates (rails/ach/trace-numbers.ts).
create sequence payin_return_entry_sequence;

-- Every credit entry the bank sent, once per trace number: the arbiter of "a file delivered
-- twice, or an entry in two files, credits once". The row is claimed before any money moves;
-- the deposit itself is keyed by the same trace number on the owner's shard (credit_payin).
--   received:       the account is a wallet's; the deposit is being posted on its shard
--   credited:       the deposit posted (the money is in the wallet)
--   return_pending: no wallet takes it (R03 unknown account, R02 closed wallet); nothing moved
--   returned:       in a return file the bank accepted (return_file_sequence)
create table payin_credits (
  trace_number text primary key check (trace_number ~ '^[0-9]{15}$'),
  -- As the bank's file wrote it (NACHA: 17 characters, moov-io/ach takes any): a number no
  -- wallet has is still recorded, so it can be returned.
  account_number text not null check (char_length(account_number) between 1 and 17),
  amount bigint not null check (amount > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  originator_name text not null,
  user_id text,
  status text not null check (status in ('received', 'credited', 'return_pending', 'returned')),
  return_code text check (return_code ~ '^R[0-9]{2}$'),
  first_cursor bigint not null,
  received_at timestamptz not null default now(),
  decided_at timestamptz,
  return_file_sequence bigint references payin_return_files (file_sequence),
  check ((status in ('return_pending', 'returned')) = (return_code is not null)),
  check (status not in ('received', 'credited') or user_id is not null),
  check (status <> 'returned' or return_file_sequence is not null)
);
create index payin_credits_returns_unsent on payin_credits (trace_number)
  where status = 'return_pending' and return_file_sequence is null;

-- On the owner's shard: what its history shows of a pay-in (who sent it, the bank's trace
-- number), one row per deposit posting 'pi_<trace number>', written with the posting by credit_payin.
create table payin_deposits (
  posting_id text primary key check (posting_id ~ '^pi_[0-9]{15}$'),
  trace_number text not null unique,
  user_id text not null references users (user_id),
  currency char(3) not null,
  amount bigint not null check (amount > 0),
  originator_name text not null,
  credited_at timestamptz not null default now()
);

-- Down Migration
-- The deposits posted stay in the ledger (append-only); only the pay-in records go.
drop table payin_deposits;
drop index payin_credits_returns_unsent;
drop table payin_credits;
drop sequence payin_return_entry_sequence;
drop sequence payin_return_file_sequence;
drop table payin_return_files;
drop table payin_files;
drop sequence virtual_account_sequence;
drop table virtual_accounts;

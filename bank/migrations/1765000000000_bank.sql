-- Up Migration

-- The bank's own database (`wallet_bank`), apart from the wallet's shards: the bank stands in for
-- a real one, and a real bank's books are not in our databases.

-- Every file the wallet uploaded, once: the same bytes again are recognized by their digest.
create table received_files (
  file_id bigserial primary key,
  sha256 text not null unique,
  file_name text not null check (char_length(file_name) between 1 and 200),
  contents text not null,
  entry_count int not null check (entry_count > 0),
  total_credit_minor bigint not null check (total_credit_minor > 0),
  received_at timestamptz not null default now()
);

-- The forward entries of those files (payouts to other banks' customers), one per trace number:
-- a trace number seen in an earlier file refuses the later file.
create table entries (
  trace_number text primary key check (trace_number ~ '^\d{15}$'),
  file_id bigint not null references received_files (file_id),
  transaction_code int not null,
  routing_number text not null,
  account_number text not null,
  individual_name text not null,
  amount_minor bigint not null check (amount_minor > 0),
  status text not null default 'ACCEPTED' check (status in ('ACCEPTED', 'SETTLED', 'RETURNED')),
  settle_at timestamptz not null,
  settled_at timestamptz,
  -- From the test matrix when the entry was accepted; return_at is when it goes back.
  return_code text check (return_code ~ '^R\d{2}$'),
  return_at timestamptz,
  returned_at timestamptz,
  -- The outgoing file that carried the return to the wallet.
  return_file_cursor bigint,
  check ((return_code is null) = (return_at is null))
);
create index entries_due on entries (settle_at) where status = 'ACCEPTED';
create index entries_returns_due on entries (return_at) where status = 'SETTLED' and return_at is not null;
create index entries_returns_unsent on entries (returned_at) where status = 'RETURNED' and return_file_cursor is null;

-- Credits someone outside sends to the wallet's virtual accounts (POST /simulate/incoming-credit).
create table incoming_credits (
  trace_number text primary key check (trace_number ~ '^\d{15}$'),
  account_number text not null,
  amount_minor bigint not null check (amount_minor > 0),
  originator_name text not null,
  received_at timestamptz not null default now(),
  file_cursor bigint
);
create index incoming_credits_unsent on incoming_credits (received_at) where file_cursor is null;

-- Files for the wallet, read by poll in cursor order (GET /outgoing-files?after=).
create table outgoing_files (
  cursor bigserial primary key,
  kind text not null check (kind in ('returns', 'credits')),
  file_name text not null unique,
  contents text not null,
  created_at timestamptz not null default now(),
  -- Late delivery (a fault switch) holds a file back until then.
  deliver_after timestamptz not null default now()
);

-- The wallet's settlement account at the bank, line by line: what the daily statement shows.
create table settlement_lines (
  line_id bigserial primary key,
  kind text not null check (kind in ('payout_settled', 'payout_returned', 'incoming_credit')),
  trace_number text not null,
  amount_minor bigint not null check (amount_minor <> 0),
  posted_at timestamptz not null default now(),
  unique (kind, trace_number)
);
create index settlement_lines_posted on settlement_lines (posted_at);

-- Fault switches (POST /admin/faults), kept here so a restart keeps them too.
create table faults (
  singleton boolean primary key default true check (singleton),
  outage_until timestamptz,
  duplicate_delivery boolean not null default false,
  late_delivery_ms int not null default 0 check (late_delivery_ms between 0 and 86400000)
);
insert into faults default values;

-- Entry trace numbers the bank assigns itself (returns, incoming credits): seven digits after its routing prefix.
create sequence bank_trace_sequence;
create sequence outgoing_file_sequence;

-- Up Migration

-- One schema per shard. Every money movement is a posting: a balanced set of immutable
-- entries, keyed by (transfer_id, leg) so that a retried activity can never post twice.

create table users (
  user_id    text primary key check (user_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  frozen     boolean not null default false,
  created_at timestamptz not null default now()
);

-- kind customer: a user's wallet in one currency; never negative.
-- kind clearing: this shard's money in transit to or from other shards (and between legs).
-- kind settlement: the outside world (pay-ins and pay-outs); negative when money came in.
create table accounts (
  account_id text primary key,
  kind       text not null check (kind in ('customer', 'clearing', 'settlement')),
  user_id    text references users (user_id),
  currency   char(3) not null check (currency ~ '^[A-Z]{3}$'),
  balance    bigint not null default 0,
  updated_at timestamptz not null default now(),
  check ((kind = 'customer') = (user_id is not null)),
  check (kind <> 'customer' or balance >= 0),
  unique (account_id, currency)
);
create unique index accounts_user_currency on accounts (user_id, currency) where kind = 'customer';

-- The durable record of every transfer this shard owns (the sender's shard; the
-- recipient's for deposits). It outlives Temporal's retention and deduplicates requests.
create table transfers (
  transfer_id     text primary key,
  kind            text not null check (kind in ('transfer', 'deposit', 'withdrawal')),
  owner_user_id   text not null references users (user_id),
  from_user_id    text,
  to_user_id      text,
  amount          bigint not null check (amount > 0),
  currency        char(3) not null,
  note            text check (char_length(note) <= 280),
  idempotency_key text not null check (char_length(idempotency_key) between 1 and 255),
  request_hash    text not null,
  status          text not null check (status in ('PENDING', 'PENDING_REVIEW', 'COMPLETED', 'FAILED', 'REVERSED')),
  failure_reason  text,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  completed_at    timestamptz,
  unique (owner_user_id, kind, idempotency_key)
);
create index transfers_owner_created on transfers (owner_user_id, created_at desc);

-- A posting's outcome is decided once: posted (entries follow), refused (a business
-- rule said no; nothing moved) or voided (fenced off before it could run).
create table postings (
  transfer_id text not null,
  leg         text not null check (leg in ('debit', 'credit', 'refund')),
  outcome     text not null check (outcome in ('posted', 'refused', 'voided')),
  reason      text,
  workflow_id text not null,
  run_id      text not null,
  created_at  timestamptz not null default now(),
  primary key (transfer_id, leg),
  check ((outcome = 'refused') = (reason is not null))
);

create table entries (
  entry_id      bigint generated always as identity primary key,
  transfer_id   text not null,
  leg           text not null,
  account_id    text not null,
  currency      char(3) not null,
  amount        bigint not null check (amount <> 0),
  balance_after bigint not null,
  kind          text not null check (kind in ('deposit', 'withdrawal', 'transfer_out', 'transfer_in', 'refund', 'clearing', 'settlement')),
  workflow_id   text not null,
  run_id        text not null,
  created_at    timestamptz not null default now(),
  foreign key (transfer_id, leg) references postings (transfer_id, leg),
  foreign key (account_id, currency) references accounts (account_id, currency),
  unique (transfer_id, leg, account_id)
);
create index entries_account_newest on entries (account_id, entry_id desc);

-- The ledger is append-only: the database itself refuses to rewrite history.
create function refuse_ledger_rewrite() returns trigger language plpgsql as $$
begin
  raise exception 'ledger table % is append-only: % refused', tg_table_name, tg_op
    using errcode = 'restrict_violation';
end $$;

create trigger entries_append_only before update or delete on entries
  for each row execute function refuse_ledger_rewrite();
create trigger entries_no_truncate before truncate on entries
  for each statement execute function refuse_ledger_rewrite();
create trigger postings_append_only before update or delete on postings
  for each row execute function refuse_ledger_rewrite();
create trigger postings_no_truncate before truncate on postings
  for each statement execute function refuse_ledger_rewrite();

-- Every posting balances on its own, per currency, checked when its transaction commits.
create function assert_posting_balanced() returns trigger language plpgsql as $$
declare
  imbalance bigint;
begin
  select coalesce(sum(amount), 0) into imbalance
    from entries
   where transfer_id = new.transfer_id and leg = new.leg and currency = new.currency;
  if imbalance <> 0 then
    raise exception 'posting %/% is unbalanced by % %', new.transfer_id, new.leg, imbalance, new.currency
      using errcode = 'check_violation';
  end if;
  return null;
end $$;

create constraint trigger entries_balanced after insert on entries
  deferrable initially deferred
  for each row execute function assert_posting_balanced();

-- Down Migration
drop table entries;
drop table postings;
drop table transfers;
drop table accounts;
drop table users;
drop function assert_posting_balanced();
drop function refuse_ledger_rewrite();

-- Up Migration

-- The transactional outbox (issue 20 §1, docs/events.md): every change a wallet's owner would
-- want to hear of is an event row written in the same transaction as the change, by the trigger
-- functions below (db/functions/*_wallet_event.sql), so a change that rolls back has no event
-- and a committed one has exactly one. Per shard: a wallet's events live on its shard, with its
-- accounts and records.

-- Each wallet's last event sequence number. A wallet's next event takes it under this row's lock,
-- held to commit, so a wallet's sequence numbers are gap-free and commit in order: a reader that
-- sees sequence n has seen every one before it.
create table wallet_event_heads (
  user_id text primary key,
  last_sequence bigint not null check (last_sequence >= 0)
);

-- The events. position is the shard-local insertion order, xid the writing transaction: the
-- shard is drained in (xid, position) order below pg_snapshot_xmin (ledger/wallet-events.ts), so
-- a drain never passes an event whose transaction is still open. event_id is stable (the wallet
-- and its sequence number, unique across shards) and is what a consumer deduplicates on.
create table wallet_events (
  user_id text not null check (user_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  sequence bigint not null check (sequence > 0),
  event_id text generated always as ('ev_' || user_id || '_' || sequence) stored,
  position bigint generated always as identity,
  xid xid8 not null default pg_current_xact_id(),
  type text not null check (type ~ '^[a-z_]+\.[a-z_]+$'),
  schema_version smallint not null check (schema_version >= 1),
  occurred_at timestamptz not null default now(),
  data jsonb not null,
  primary key (user_id, sequence)
);
create index wallet_events_drain on wallet_events (xid, position);

create trigger wallet_events_append_only before update or delete on wallet_events
  for each row execute function refuse_ledger_rewrite();

-- The trigger functions' living definitions are in db/functions/, applied right after this
-- migration (db/migrate.ts). Until then these stand-ins refuse the change: a change made in that
-- moment is retried by its caller rather than committed without its event.
do $do$
declare
  v_name text;
begin
  foreach v_name in array array['entry_wallet_event', 'transfer_wallet_event', 'user_wallet_event',
                                'account_wallet_event', 'payout_wallet_event', 'payin_wallet_event'] loop
    execute format($f$create function %I() returns trigger language plpgsql as $b$
      begin raise exception 'wallet events are not defined yet' using errcode = 'object_not_in_prerequisite_state'; end $b$ $f$,
      v_name);
  end loop;
end $do$;

-- Ledger: a customer's entry is a wallet.credited or wallet.debited.
create trigger entries_wallet_event after insert on entries
  for each row when (new.account_id like 'customer:%') execute function entry_wallet_event();
-- Transfers, deposits and withdrawals: created, and each change of status or reversal refusal.
create trigger transfers_wallet_event_created after insert on transfers
  for each row execute function transfer_wallet_event();
create trigger transfers_wallet_event_changed after update on transfers
  for each row when (old.status is distinct from new.status
                     or old.reversal_refused_reason is distinct from new.reversal_refused_reason)
  execute function transfer_wallet_event();
-- Ops actions: freeze, unfreeze, close; a wallet's limits.
create trigger users_wallet_event after update on users
  for each row when (old.frozen is distinct from new.frozen or old.closed_at is distinct from new.closed_at)
  execute function user_wallet_event();
create trigger accounts_wallet_event after update on accounts
  for each row when (new.kind = 'customer' and (old.min_balance is distinct from new.min_balance
                     or old.daily_outgoing_max is distinct from new.daily_outgoing_max))
  execute function account_wallet_event();
-- Payouts (on their owner's shard): created, and each change of status.
create trigger payouts_wallet_event_created after insert on payouts
  for each row execute function payout_wallet_event();
create trigger payouts_wallet_event_changed after update on payouts
  for each row when (old.status is distinct from new.status) execute function payout_wallet_event();
-- Pay-ins: a deposit credited on the owner's shard (the bank's entry itself is on the reference shard).
create trigger payin_deposits_wallet_event after insert on payin_deposits
  for each row execute function payin_wallet_event();

-- Down Migration
drop trigger payin_deposits_wallet_event on payin_deposits;
drop trigger payouts_wallet_event_changed on payouts;
drop trigger payouts_wallet_event_created on payouts;
drop trigger accounts_wallet_event on accounts;
drop trigger users_wallet_event on users;
drop trigger transfers_wallet_event_changed on transfers;
drop trigger transfers_wallet_event_created on transfers;
drop trigger entries_wallet_event on entries;
drop function payin_wallet_event();
drop function payout_wallet_event();
drop function account_wallet_event();
drop function user_wallet_event();
drop function transfer_wallet_event();
drop function entry_wallet_event();
drop function if exists append_wallet_event(text, text, jsonb);
drop function if exists lock_wallet_event_heads(text, text);
drop table wallet_events;
drop table wallet_event_heads;

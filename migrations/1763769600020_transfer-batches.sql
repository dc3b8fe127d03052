-- Up Migration

-- A batch of transfers from one payer (POST /v1/wallet/transfer-batches), on the payer's shard
-- beside the items' transfer records. The key (payer, idempotency_key) decides whether a request
-- is a new batch, a retry (same request_hash) or a reused key (another hash: refused).
create table transfer_batches (
  batch_id text primary key,
  payer_user_id text not null references users (user_id),
  idempotency_key text not null check (char_length(idempotency_key) between 1 and 255),
  request_hash text not null,
  currency char(3) not null,
  item_count int not null check (item_count between 1 and 1000),
  total_amount bigint not null check (total_amount > 0),
  -- RUNNING until the batch workflow saw every item final.
  status text not null default 'RUNNING' check (status in ('RUNNING', 'COMPLETED')),
  initiated_by text,
  created_at timestamptz not null default now(),
  completed_at timestamptz,
  unique (payer_user_id, idempotency_key)
);

-- The orphan sweeper's read (workers/orphan-batches.ts): batches still running, oldest first.
create index transfer_batches_running on transfer_batches (created_at) where status = 'RUNNING';

-- Each item as the client sent it, and the transfer it becomes: the transfer id is fixed when
-- the batch is accepted (transferIdFor of payer and item key); the transfer's record is written
-- by the batch workflow, in chunks, before its workflow starts. Items are never changed.
create table transfer_batch_items (
  batch_id text not null references transfer_batches (batch_id),
  position int not null check (position >= 0 and position < 1000),
  transfer_id text not null,
  to_user_id text not null,
  amount bigint not null check (amount > 0),
  note text check (char_length(note) <= 280),
  idempotency_key text not null check (char_length(idempotency_key) between 1 and 255),
  primary key (batch_id, position),
  unique (batch_id, transfer_id)
);

-- Down Migration
drop table transfer_batch_items;
drop table transfer_batches;

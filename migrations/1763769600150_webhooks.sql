-- Up Migration

-- Webhooks (issue 20 §2, README "Webhooks"). Endpoints and their delivery log are global records,
-- not a wallet's: they live on the reference shard (shard 0), beside FX rates, pay-in files and
-- reconciliation runs. (The tables exist on every shard, as every migration does; only shard 0's
-- hold rows.) An endpoint's secrets are stored sealed (AES-256-GCM under PAYLOAD_KEYS), never in
-- clear text.
create table webhook_endpoints (
  endpoint_id      text primary key check (endpoint_id ~ '^we_[0-9a-f]{32}$'),
  url              text not null,
  event_types      text[] not null check (cardinality(event_types) > 0),
  -- null: every wallet (ops only); otherwise the wallets it hears of.
  wallets          text[] check (wallets is null or cardinality(wallets) > 0),
  owner_role       text not null check (owner_role in ('customer', 'ops')),
  owner_id         text not null,
  secret_sealed    text not null,
  -- During a rotation's grace period deliveries are signed with this one too.
  previous_secret_sealed  text,
  previous_secret_expires_at timestamptz,
  status           text not null default 'active' check (status in ('active', 'disabled')),
  disabled_reason  text,
  disabled_at      timestamptz,
  created_at       timestamptz not null default now(),
  deleted_at       timestamptz,
  check ((previous_secret_sealed is null) = (previous_secret_expires_at is null)),
  check ((status = 'disabled') = (disabled_at is not null))
);
create index webhook_endpoints_live on webhook_endpoints (created_at) where deleted_at is null;

-- Every delivery attempt: what was sent (the event), what came back (status code, latency) or
-- what went wrong (error). id orders the log and is its page cursor.
create table webhook_deliveries (
  delivery_id   bigint generated always as identity primary key,
  endpoint_id   text not null references webhook_endpoints (endpoint_id),
  event_id      text not null,
  event_type    text not null,
  user_id       text not null,
  sequence      bigint not null,
  attempt       integer not null check (attempt >= 1),
  replay        boolean not null,
  status_code   integer,
  latency_ms    integer not null check (latency_ms >= 0),
  error         text,
  succeeded     boolean not null,
  attempted_at  timestamptz not null default now()
);
create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, delivery_id);

-- Where the webhook dispatcher stands in this shard's outbox (ledger/wallet-events.ts
-- DrainCursor), on the shard it drains. One row; absent: from the start.
create table webhook_drain_cursors (
  drain        text primary key,
  xid          xid8 not null,
  position     bigint not null,
  updated_at   timestamptz not null default now()
);

-- Down Migration
drop table webhook_drain_cursors;
drop table webhook_deliveries;
drop table webhook_endpoints;

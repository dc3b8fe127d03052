-- Up Migration

-- Where each relay of the wallet events outbox stands on this shard (issue 20 §4, docs/events.md,
-- "The stream"). A relay publishes the shard's events in (xid, position) order and moves its
-- cursor here only after the broker acknowledged them, so a relay that restarts (or another
-- process that takes over) goes on from the last acknowledged event: nothing is lost, and what
-- it publishes again is dropped by the broker's de-duplication (the event id is the message id).
create table event_relay_cursors (
  relay text primary key check (relay ~ '^[a-z][a-z0-9_-]{0,40}$'),
  xid xid8 not null,
  position bigint not null check (position >= 0),
  updated_at timestamptz not null default now()
);

-- Down Migration

drop table event_relay_cursors;

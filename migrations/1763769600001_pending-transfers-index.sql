-- Up Migration

-- The orphan sweeper looks for old transfers that are still pending; this keeps that query
-- cheap however many finished transfers a shard holds.
create index transfers_pending_created on transfers (created_at) where status in ('PENDING', 'PENDING_REVIEW');

-- Down Migration
drop index transfers_pending_created;

-- Up Migration

-- The orphan sweeper looks for old transfers that are still pending; this keeps that query
-- cheap however many finished transfers a shard holds.
create index transfers_pending on transfers (transfer_id) where status = 'PENDING';

-- Down Migration
drop index transfers_pending;

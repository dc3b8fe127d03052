-- Up Migration

-- The transfer monitor looks for reversal debits without their credit (ledger/reversal-reads.ts)
-- every MONITOR_INTERVAL_MS on every shard. Reversals are rare and postings grow with every
-- leg, so a partial index keeps that read to the reversal debits alone instead of a scan.
create index postings_reversal_debits on postings (created_at) where leg = 'reversal_debit' and outcome = 'posted';

-- Down Migration
drop index postings_reversal_debits;

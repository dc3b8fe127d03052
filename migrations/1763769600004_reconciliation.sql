-- Up Migration

-- One row per reconciliation run (ledger/reconciliation.ts): what it found, when, and by which
-- workflow. Every shard has this table, as every shard has the same schema, but runs are written
-- to shard 0 only: shard 0 holds the wallet-wide ops records, the ones that belong to no user.
-- A run is an observation of the ledger at one moment, so it is never rewritten: a later run is
-- a new row.
create table reconciliation_runs (
  run_id            bigint generated always as identity primary key,
  started_at        timestamptz not null,
  finished_at       timestamptz not null,
  ok                boolean not null,
  discrepancy_count integer not null check (discrepancy_count >= 0),
  -- Totals per currency and the discrepancies found (a bounded list), amounts as decimal strings.
  report            jsonb not null,
  -- The run of reconcileWorkflow that wrote the row; null when run by hand.
  workflow_id       text,
  check (finished_at >= started_at),
  check (ok = (discrepancy_count = 0))
);

create trigger reconciliation_runs_append_only before update or delete on reconciliation_runs
  for each row execute function refuse_ledger_rewrite();
create trigger reconciliation_runs_no_truncate before truncate on reconciliation_runs
  for each statement execute function refuse_ledger_rewrite();

-- Down Migration
drop table reconciliation_runs;

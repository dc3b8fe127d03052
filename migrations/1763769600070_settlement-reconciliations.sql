-- Up Migration

-- Settlement reconciliation runs (activities/settlement-reconcile.ts), on the reference shard: one
-- row per run of one banking day's statement against the ledger, append-only like
-- reconciliation_runs. The report lists every break (missing in the ledger, missing at the bank,
-- amount mismatch) and the lines in transit or across midnight, amounts as decimal strings.
create table settlement_reconciliations (
  run_id         bigint generated always as identity primary key,
  statement_date date not null,
  started_at     timestamptz not null,
  finished_at    timestamptz not null,
  ok             boolean not null,
  break_count    integer not null check (break_count >= 0),
  report         jsonb not null,
  workflow_id    text,
  check (finished_at >= started_at),
  check (ok = (break_count = 0))
);
-- A day's latest run, and the latest run of all for the gauges.
create index settlement_reconciliations_date on settlement_reconciliations (statement_date, run_id);

create trigger settlement_reconciliations_append_only before update or delete on settlement_reconciliations
  for each row execute function refuse_ledger_rewrite();
create trigger settlement_reconciliations_no_truncate before truncate on settlement_reconciliations
  for each statement execute function refuse_ledger_rewrite();

-- Down Migration
drop table settlement_reconciliations;

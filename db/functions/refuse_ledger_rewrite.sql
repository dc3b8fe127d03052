-- The ledger is append-only: the database itself refuses to rewrite history. Triggers on entries,
-- postings, ops_audit, reconciliation_runs, fx_rates, conversions and account_snapshots run it.
create or replace function refuse_ledger_rewrite()
returns trigger
language plpgsql
as $$
begin
  raise exception 'ledger table % is append-only: % refused', tg_table_name, tg_op
    using errcode = 'restrict_violation';
end $$;

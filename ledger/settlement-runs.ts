import type pg from 'pg';
import type { SettlementMatch } from '../domain/settlement-match';
import { storedJson } from './reconciliation-runs';

/**
 * Settlement reconciliation runs, on the reference shard (settlement_reconciliations; append-only).
 * The report is the match (domain/settlement-match.ts) with the statement's balances, amounts as
 * decimal strings as in reconciliation_runs.
 */

export interface SettlementReport extends SettlementMatch {
  statement: { currency: string; openingBalanceMinor: bigint; closingBalanceMinor: bigint };
}

export interface SettlementRunSummary {
  runId: bigint;
  statementDate: string;
  ok: boolean;
  breakCount: number;
  finishedAt: Date;
}

export interface SettlementRunRecord extends SettlementRunSummary {
  startedAt: Date;
  workflowId: string | null;
  /** As stored: amounts are decimal strings. */
  report: Record<string, unknown>;
}

export async function insertSettlementRun(
  client: pg.ClientBase | pg.Pool,
  run: { startedAt: Date; finishedAt: Date; report: SettlementReport; workflowId: string | null },
): Promise<SettlementRunSummary> {
  const inserted = await client.query<{ run_id: string }>(
    `insert into settlement_reconciliations (statement_date, started_at, finished_at, ok, break_count, report, workflow_id)
     values ($1::date, $2::timestamptz, $3::timestamptz, $4::boolean, $5::int, $6::jsonb, $7::text)
     returning run_id`,
    [
      run.report.date,
      run.startedAt,
      run.finishedAt,
      run.report.ok,
      run.report.breakCount,
      storedJson(run.report),
      run.workflowId,
    ],
  );
  return {
    runId: BigInt(inserted.rows[0]!.run_id),
    statementDate: run.report.date,
    ok: run.report.ok,
    breakCount: run.report.breakCount,
    finishedAt: run.finishedAt,
  };
}

interface RunRow {
  run_id: string;
  statement_date: string;
  started_at: Date;
  finished_at: Date;
  ok: boolean;
  break_count: number;
  workflow_id: string | null;
  report: Record<string, unknown>;
}

const run_columns = `run_id, to_char(statement_date, 'YYYY-MM-DD') as statement_date, started_at, finished_at, ok,
  break_count, workflow_id`;

/** The latest run for a banking day, or undefined before the first. */
export async function latestSettlementRun(
  client: pg.ClientBase | pg.Pool,
  date: string,
): Promise<SettlementRunRecord | undefined> {
  const found = await client.query<RunRow>(
    `select ${run_columns}, report from settlement_reconciliations
      where statement_date = $1::date order by run_id desc limit 1`,
    [date],
  );
  const row = found.rows[0];
  return row && { ...summaryOf(row), startedAt: row.started_at, workflowId: row.workflow_id, report: row.report };
}

/** The latest run of any day, for metrics scraped often. */
export async function latestSettlementRunSummary(
  client: pg.ClientBase | pg.Pool,
): Promise<SettlementRunSummary | undefined> {
  const found = await client.query<RunRow>(
    `select ${run_columns} from settlement_reconciliations order by run_id desc limit 1`,
  );
  const row = found.rows[0];
  return row && summaryOf(row);
}

function summaryOf(row: RunRow): SettlementRunSummary {
  return {
    runId: BigInt(row.run_id),
    statementDate: row.statement_date,
    ok: row.ok,
    breakCount: row.break_count,
    finishedAt: row.finished_at,
  };
}

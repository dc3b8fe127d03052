import type pg from 'pg';
import type { ReconciliationReport } from './reconciliation-report';

/** A report as stored (jsonb): amounts are decimal strings, as in Temporal payloads. */
export interface StoredReport {
  ok: boolean;
  shards: number;
  discrepancy_count: number;
  discrepancies: Record<string, string | number | null>[];
  currencies: Record<string, string | number>[];
  /** Absent in runs recorded before the chain check. */
  chain?: { shard: number; checked_through: string; swept_through: string; entries_checked: number }[];
}

export interface RunSummary {
  runId: bigint;
  ok: boolean;
  discrepancyCount: number;
  finishedAt: Date;
}

export interface RunRecord extends RunSummary {
  startedAt: Date;
  workflowId: string | null;
  report: StoredReport;
}

/** Appends a run; the table refuses updates, so each run is its own row. */
export async function insertRun(
  client: pg.ClientBase | pg.Pool,
  run: { startedAt: Date; finishedAt: Date; report: ReconciliationReport; workflowId: string | null },
): Promise<RunSummary> {
  const { ok, discrepancy_count } = run.report;
  const inserted = await client.query<{ run_id: string }>(
    `insert into reconciliation_runs (started_at, finished_at, ok, discrepancy_count, report, workflow_id)
     values ($1::timestamptz, $2::timestamptz, $3::boolean, $4::int, $5::jsonb, $6::text)
     returning run_id`,
    [run.startedAt, run.finishedAt, ok, discrepancy_count, storedJson(run.report), run.workflowId],
  );
  return {
    runId: BigInt(inserted.rows[0]!.run_id),
    ok,
    discrepancyCount: discrepancy_count,
    finishedAt: run.finishedAt,
  };
}

interface RunRow {
  run_id: string;
  started_at: Date;
  finished_at: Date;
  ok: boolean;
  discrepancy_count: number;
  workflow_id: string | null;
  report: StoredReport;
}

/** The run that finished last (identity order is insert order, and a run is inserted when it finishes). */
export async function latestRun(client: pg.ClientBase | pg.Pool): Promise<RunRecord | undefined> {
  const found = await client.query<RunRow>(
    `select run_id, started_at, finished_at, ok, discrepancy_count, workflow_id, report
       from reconciliation_runs order by run_id desc limit 1`,
  );
  const row = found.rows[0];
  return row && { ...summaryOf(row), startedAt: row.started_at, workflowId: row.workflow_id, report: row.report };
}

/** Where the latest run's chain check stopped on each shard (ledger/reconciliation.ts); empty before the first. */
export async function latestChainProgress(
  client: pg.ClientBase | pg.Pool,
): Promise<NonNullable<StoredReport['chain']>> {
  const found = await client.query<{ chain: StoredReport['chain'] | null }>(
    `select report->'chain' as chain from reconciliation_runs order by run_id desc limit 1`,
  );
  return found.rows[0]?.chain ?? [];
}

/** The latest run without its report, for metrics scraped often. */
export async function latestRunSummary(client: pg.ClientBase | pg.Pool): Promise<RunSummary | undefined> {
  const found = await client.query<Omit<RunRow, 'report' | 'started_at' | 'workflow_id'>>(
    'select run_id, finished_at, ok, discrepancy_count from reconciliation_runs order by run_id desc limit 1',
  );
  const row = found.rows[0];
  return row && summaryOf(row);
}

function summaryOf(row: Pick<RunRow, 'run_id' | 'ok' | 'discrepancy_count' | 'finished_at'>): RunSummary {
  return {
    runId: BigInt(row.run_id),
    ok: row.ok,
    discrepancyCount: row.discrepancy_count,
    finishedAt: row.finished_at,
  };
}

/** bigint amounts become decimal strings: jsonb would keep them, but JSON.parse on the way back would round past 2^53. */
export function storedJson(report: object): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

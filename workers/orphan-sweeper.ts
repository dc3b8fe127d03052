import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import { withSessionLock } from '../db/session-lock';
import type { ShardSet } from '../db/shards';
import { findStalePending, findTransfer, type TransferRecord } from '../ledger/transfers';
import { heldBy, transferOf, startTransferWorkflow } from '../temporal-client/start-transfer';
import { forEachSettled } from './for-each-limited';
import { sweepOrphanedBatches } from './orphan-batches';
import type { WalletMetrics } from '../metrics/wallet-metrics';
import type { TransferLimits } from '../domain/transfer-policy';
import type { TransferTimings } from '../workflows/activity-options';

/** Records read per query, and the most one sweep looks at per shard (the rest wait for the next sweep). */
const sweep_page_size = 100;
const sweep_records_max = 10_000;
/** Workflows described (and started) at once: a sweep of thousands of records must not flood Temporal. */
const sweep_concurrency = 8;
/** A transfer whose workflow has failed this many sweeps in a row is alerted on (error log, metric). */
const failed_runs_alert = 3;
/** The advisory lock (on the reference shard, shard 0) that one sweep holds across every wallet process. */
const sweep_lock = { key: 7_241_865_325_823_966n, name: 'wallet-orphan-sweep' };

export interface SweepDependencies {
  shards: ShardSet;
  client: Client;
  taskQueue: string;
  timings: TransferTimings;
  limits: TransferLimits;
  logger: Logger;
  /** Only records at least this old: younger ones may still be on their way to Temporal. */
  orphanAgeMinMs: number;
  metrics: Pick<WalletMetrics, 'transfersFailingReruns' | 'orphanSweepErrors'>;
  /** True for a transfer whose start this process deferred and still holds (temporal-client/start-pacer.ts): not an orphan. */
  isDeferredHere?: (transferId: string) => boolean;
}

export interface SweepReport {
  /** Stale records whose workflow is running: not orphans (a credit retrying through an outage, a review hold). */
  running: number;
  /** Records whose start this process deferred in a burst and will make: left to it. */
  deferred: number;
  /** Records with no workflow at all (the API died between recording and starting, or before its deferred start): started. */
  orphans: number;
  /** Records whose workflow ended without finishing them (failed, terminated, timed out): run again. */
  rerun: number;
  /** Records that became final while the sweep looked at them (their workflow finished them): nothing to do. */
  finished: number;
  /** Transfers rerun at least failed_runs_alert sweeps in a row: a person has to look. */
  failing: string[];
  /** Transfers (or whole shards) the sweep could not look at: logged and counted; the next sweep tries again. */
  errors: number;
}

/** How many consecutive sweeps found each transfer's workflow failed; carried from one sweep to the next. */
export type FailedRuns = Map<string, number>;

/**
 * The API records a transfer before it starts its workflow. If the API process dies between
 * the two, the record stays PENDING with no workflow and the client may never retry. The
 * sweeper looks at every old PENDING (or held) record's workflow: a running one is left alone,
 * a missing one is started, and one that ended without finishing the record (failed,
 * terminated, timed out) is run again, which is safe because every leg is keyed in the ledger.
 * A transfer whose runs keep failing is reported every sweep (error log and
 * wallet_transfers_failing_reruns), since rerunning it will not help until someone acts.
 */
export async function sweepOrphanedTransfers(
  deps: SweepDependencies,
  failedRuns: FailedRuns = new Map(),
): Promise<SweepReport> {
  const report: SweepReport = { running: 0, deferred: 0, orphans: 0, rerun: 0, finished: 0, failing: [], errors: 0 };
  const stillFailing: FailedRuns = new Map();
  for (const [shard, pool] of deps.shards.pools.entries()) {
    // One shard that cannot be read must not keep the sweep from the others.
    await sweepShard(deps, pool, report, failedRuns, stillFailing).catch((error: unknown) => {
      report.errors++;
      deps.logger.error({ err: error, shard }, 'orphan sweep could not read a shard; the next sweep tries again');
      // Its transfers were not looked at: their count of failed runs carries over unchanged.
      for (const [transferId, count] of failedRuns)
        if (!stillFailing.has(transferId)) stillFailing.set(transferId, count);
    });
  }
  failedRuns.clear();
  for (const [transferId, count] of stillFailing) failedRuns.set(transferId, count);
  deps.metrics.transfersFailingReruns.set(report.failing.length);
  deps.metrics.orphanSweepErrors.inc(report.errors);
  return report;
}

/**
 * Pages through every stale record of one shard (old ones whose workflow is still running must
 * not hide newer orphans behind them). A record whose look fails is logged and counted, and the
 * sweep goes on with the others; it keeps its count of failed runs for the next sweep.
 */
async function sweepShard(
  deps: SweepDependencies,
  pool: pg.Pool,
  report: SweepReport,
  failedRuns: FailedRuns,
  stillFailing: FailedRuns,
): Promise<void> {
  for (let seen = 0, afterTransferId: string | undefined; seen < sweep_records_max;) {
    const page = await findStalePending(pool, {
      olderThanMs: deps.orphanAgeMinMs,
      limit: sweep_page_size,
      afterTransferId,
    });
    const failures = await forEachSettled(page, sweep_concurrency, (record) =>
      sweepOne(deps, pool, record, { report, failedRuns, stillFailing }),
    );
    for (const { item, error } of failures) {
      report.errors++;
      const count = failedRuns.get(item.transferId);
      if (count !== undefined && !stillFailing.has(item.transferId)) stillFailing.set(item.transferId, count);
      deps.logger.error(
        { err: error, transfer_id: item.transferId },
        'orphan sweep could not look at a transfer; the next sweep tries again',
      );
    }
    seen += page.length;
    afterTransferId = page.at(-1)?.transferId;
    if (page.length < sweep_page_size) break;
  }
}

interface SweepTally {
  report: SweepReport;
  failedRuns: FailedRuns;
  stillFailing: FailedRuns;
}

async function sweepOne(
  deps: SweepDependencies,
  pool: pg.Pool,
  record: TransferRecord,
  { report, failedRuns, stillFailing }: SweepTally,
): Promise<void> {
  const log = { transfer_id: record.transferId, workflow_id: record.transferId };
  if (deps.isDeferredHere?.(record.transferId)) {
    report.deferred++;
    return;
  }
  const state = await workflowStateOf(deps.client, record.transferId);
  if (state === 'RUNNING') {
    report.running++;
    return;
  }
  // The record was read before the workflow was described: a run that finished it in between
  // (and then ended) is neither an orphan nor a failure. Read again before acting or alerting.
  if (!isOpen(await findTransfer(pool, record.transferId))) {
    report.finished++;
    return;
  }
  if (state === 'COMPLETED') {
    // The workflow returned, yet its record is not final: the two disagree, and no rerun may
    // move money on a guess. (The start below would be refused by the reuse policy anyway.)
    deps.logger.error(log, 'transfer workflow completed but its record is still pending: investigate');
    report.failing.push(record.transferId);
    stillFailing.set(record.transferId, failed_runs_alert);
    return;
  }
  const isRerun = state !== 'NOT_FOUND';
  await startTransferWorkflow(deps, transferOf(record), heldBy(record));
  if (!isRerun) {
    report.orphans++;
    deps.logger.warn(log, 'started the workflow of an orphaned transfer record');
    return;
  }
  report.rerun++;
  const failures = (failedRuns.get(record.transferId) ?? 0) + 1;
  stillFailing.set(record.transferId, failures);
  if (failures >= failed_runs_alert) {
    report.failing.push(record.transferId);
    deps.logger.error(
      { ...log, workflow_status: state, failed_runs: failures },
      'transfer workflow keeps failing; rerun again, but it needs a person',
    );
  } else {
    deps.logger.warn(
      { ...log, workflow_status: state, failed_runs: failures },
      'reran the workflow of a transfer whose last run ended without finishing it',
    );
  }
}

/** Still waiting for its workflow: the statuses findStalePending selects. */
function isOpen(record: TransferRecord | undefined): boolean {
  return record?.status === 'PENDING' || record?.status === 'PENDING_REVIEW';
}

type WorkflowState = 'RUNNING' | 'COMPLETED' | 'ENDED_UNFINISHED' | 'NOT_FOUND';

async function workflowStateOf(client: Client, workflowId: string): Promise<WorkflowState> {
  try {
    const status = (await client.workflow.getHandle(workflowId).describe()).status.name;
    if (status === 'RUNNING' || status === 'COMPLETED') return status;
    return 'ENDED_UNFINISHED';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'NOT_FOUND';
    throw error;
  }
}

/**
 * Sweeps every intervalMs until the returned stop function is called. One sweep at a time: a
 * tick that finds this process's last sweep still running is skipped, so a slow sweep never
 * queues more; and a sweep runs only under an advisory lock on the reference shard, so the
 * sweepers of several wallet processes take turns instead of sweeping the same records at once.
 * A failed sweep is logged and tried again at the next tick.
 */
export function runOrphanSweeper(
  deps: SweepDependencies,
  intervalMs: number,
  sweep: (failedRuns: FailedRuns) => Promise<unknown> = async (failedRuns) => {
    await sweepOrphanedTransfers(deps, failedRuns);
    await sweepOrphanedBatches(deps);
  },
): () => Promise<void> {
  let stopped = false;
  let current: Promise<unknown> | null = null;
  const failedRuns: FailedRuns = new Map();
  const timer = setInterval(() => {
    if (stopped || current) return;
    current = withSessionLock(deps.shards.urls[0]!, sweep_lock, async () => {
      await sweep(failedRuns);
    })
      .then((swept) => {
        if (!swept) deps.logger.debug('another wallet process is sweeping; this tick is skipped');
      })
      .catch((error: unknown) => deps.logger.error({ err: error }, 'orphan sweep failed'))
      .finally(() => (current = null));
  }, intervalMs);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await current;
  };
}

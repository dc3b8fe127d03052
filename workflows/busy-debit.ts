import { ActivityFailure, ApplicationFailure, TemporalFailure, patched, sleep } from '@temporalio/workflow';
import type { WalletActivities } from '../activities';
import { shard_busy_failure } from '../domain/database-errors';
import type { TransferTimings } from './activity-options';

/**
 * From this patch on, a debit that met a busy shard waits and debits again. Taken only when a
 * debit ends `shard_busy`, which earlier code never produced (it retried busy errors within the
 * debit's attempts), so older histories replay unchanged.
 */
const debit_waits_while_busy_patch = 'debit-waits-while-busy';

/** Runs whose timings predate DEBIT_BUSY_WAIT_MAX wait out a busy shard this long (its default). */
const busy_wait_max_default_ms = 120_000;
const busy_wait_first_ms = 200;

/**
 * The debit, waiting out a busy shard (activities/busy-shard.ts): each `shard_busy` ends the
 * attempt at once, the workflow sleeps on a durable timer (backoff from 200 ms up to
 * RETRY_INTERVAL_MAX_MS) and debits again with its full attempt budget, so a burst on a hot
 * payer's row never fails a transfer. A shard busy for longer than DEBIT_BUSY_WAIT_MAX (a lock
 * that is never released, a pool that never frees) is as good as down: the `shard_busy` failure
 * is handed on, and the transfer fails as ledger_unavailable after its debit is fenced.
 */
export async function debitWaitingWhileBusy(
  debiting: WalletActivities,
  input: Parameters<WalletActivities['debitWallet']>[0],
  timings: TransferTimings,
): ReturnType<WalletActivities['debitWallet']> {
  const busyWaitMaxMs = timings.debitBusyWaitMaxMs ?? busy_wait_max_default_ms;
  const startedAt = Date.now();
  let waitMs = Math.min(busy_wait_first_ms, timings.retryIntervalMaxMs);
  for (;;) {
    try {
      return await debiting.debitWallet(input);
    } catch (error) {
      if (!isShardBusy(error) || !patched(debit_waits_while_busy_patch)) throw error;
      if (Date.now() - startedAt + waitMs > busyWaitMaxMs) throw error;
      await sleep(waitMs);
      waitMs = Math.min(waitMs * 2, timings.retryIntervalMaxMs);
    }
  }
}

function isShardBusy(error: unknown): boolean {
  if (!(error instanceof TemporalFailure)) return false;
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === shard_busy_failure;
}

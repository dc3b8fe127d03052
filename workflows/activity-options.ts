import type { LocalActivityOptions } from '@temporalio/workflow';

/** Durations come from the worker's configuration through the workflow input, so tests can shorten them. */
export interface TransferTimings {
  activityTimeoutMs: number;
  debitAttemptsMax: number;
  retryIntervalMaxMs: number;
  /** How long a debit waits out a busy shard before the transfer fails (DEBIT_BUSY_WAIT_MAX; absent in older runs: 2 min). */
  debitBusyWaitMaxMs?: number;
  /** How long a completed transfer accepts a `reverse` (0 or absent: no window, the run ends). */
  reversalWindowMs?: number;
  /** How long a transfer held for review waits for a decision before it fails (review_timeout). */
  reviewTimeoutMs?: number;
}

/** The TypeScript SDK rejects 0 ("unlimited"); the protocol field is an int32, so this is its maximum. */
const attempts_unlimited = 2_147_483_647;

/**
 * Retries whose backoff is at most this run inside the worker, within the transfer's one
 * workflow task; longer backoffs become durable workflow timers (the SDK's rule for local
 * activities), so a transfer waiting out a long shard outage holds no worker slot.
 */
const local_retry_threshold_ms = 10_000;

/**
 * The ledger legs run as local activities: inside the workflow task, with no activity task
 * round trip through the engine. They are at-least-once like any activity (a worker crash
 * mid-task runs them again), which the ledger's (transfer_id, leg) key makes exactly-once.
 *
 * The debit may give up: nothing has moved yet, and the refund step fences the debit so a
 * late attempt cannot post after the transfer failed.
 */
export function debitOptions(timings: TransferTimings): LocalActivityOptions {
  return {
    startToCloseTimeout: timings.activityTimeoutMs,
    localRetryThreshold: local_retry_threshold_ms,
    retry: {
      initialInterval: Math.min(200, timings.retryIntervalMaxMs),
      backoffCoefficient: 2,
      maximumInterval: timings.retryIntervalMaxMs,
      maximumAttempts: timings.debitAttemptsMax,
    },
  };
}

/**
 * Once the debit is posted the money is in flight: the credit and the refund must finish,
 * so they retry without an attempt limit, with backoff capped at retryIntervalMaxMs.
 * The transfer stays PENDING (visible in the UI and the status query) until they do.
 */
export function mustFinishOptions(timings: TransferTimings): LocalActivityOptions {
  return {
    startToCloseTimeout: timings.activityTimeoutMs,
    localRetryThreshold: local_retry_threshold_ms,
    retry: {
      initialInterval: Math.min(200, timings.retryIntervalMaxMs),
      backoffCoefficient: 2,
      maximumInterval: timings.retryIntervalMaxMs,
      maximumAttempts: attempts_unlimited,
    },
  };
}

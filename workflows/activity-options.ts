import type { ActivityOptions } from '@temporalio/workflow';

/** Durations come from the worker's configuration through the workflow input, so tests can shorten them. */
export interface TransferTimings {
  activityTimeoutMs: number;
  debitAttemptsMax: number;
  retryIntervalMaxMs: number;
}

/** The TypeScript SDK rejects 0 ("unlimited"); the protocol field is an int32, so this is its maximum. */
const attempts_unlimited = 2_147_483_647;

/**
 * The debit may give up: nothing has moved yet, and the refund step fences the debit so a
 * late attempt cannot post after the transfer failed.
 */
export function debitOptions(timings: TransferTimings): ActivityOptions {
  return {
    startToCloseTimeout: timings.activityTimeoutMs,
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
export function mustFinishOptions(timings: TransferTimings): ActivityOptions {
  return {
    startToCloseTimeout: timings.activityTimeoutMs,
    retry: {
      initialInterval: Math.min(200, timings.retryIntervalMaxMs),
      backoffCoefficient: 2,
      maximumInterval: timings.retryIntervalMaxMs,
      maximumAttempts: attempts_unlimited,
    },
  };
}

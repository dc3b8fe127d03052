import { ActivityFailure, ApplicationFailure, TemporalFailure, condition, log, patched } from '@temporalio/workflow';
import type { WalletActivities } from '../activities';
import { needsAttentionFor } from '../domain/database-errors';
import type { TransferStatus } from '../domain/transfers';
import type { TransferState } from './messages';
import type { OpsInbox, RetryRequest } from './ops-inbox';

/**
 * From this patch on, a must-finish step that fails for good holds the transfer in
 * NEEDS_ATTENTION instead of failing the run. Taken only when such a failure happens, which
 * earlier code never saw (it retried those errors forever), so older histories replay unchanged.
 */
const needs_attention_patch = 'needs-attention';

export interface AttentionContext {
  transferId: string;
  ownerUserId: string;
  state: TransferState;
  inbox: OpsInbox;
  /** The activities the steps run (retries unbounded); `recordRetry` writes a retry's audit row. */
  finishing: WalletActivities;
  /** Mirrors a status change in the search attribute and the Web UI's details. */
  changeStatus: (status: TransferStatus) => void;
}

/**
 * The must-finish activities, each escalating instead of failing the run: a step that failed in
 * a way no retry can fix (a `ledger_error_*` or `payload_invalid` failure: a broken constraint,
 * a value too long, a bug) puts the transfer in NEEDS_ATTENTION, with the money exactly where the
 * last committed leg left it, and waits for an operator's `retry`; the step then runs again with
 * the same input, so its leg keys make it post once. Business refusals and retryable errors are
 * the caller's as before.
 */
export function escalating(context: AttentionContext): WalletActivities {
  return eachActivityThrough(context.finishing, (name, run) => untilDone(context, name, run));
}

/** The same activities, each call run through `through` (given the activity's name and the call itself). */
export function eachActivityThrough<T extends object>(
  activities: T,
  through: (name: string, run: () => Promise<unknown>) => Promise<unknown>,
): T {
  return new Proxy(activities, {
    get: (target, name) => {
      const activity = Reflect.get(target, name) as unknown;
      if (typeof name !== 'string' || typeof activity !== 'function') return activity;
      return (...args: unknown[]) =>
        through(name, () => (activity as (...input: unknown[]) => Promise<unknown>)(...args));
    },
  });
}

async function untilDone<T>(context: AttentionContext, activity: string, run: () => Promise<T>): Promise<T> {
  let retries: RetryRequest[] = [];
  for (;;) {
    try {
      const result = await run();
      context.state.attention = null;
      answer(context, retries);
      return result;
    } catch (error) {
      const failure = finalFailureOf(error);
      if (!failure || !patched(needs_attention_patch)) throw error;
      holdInAttention(context, activity, failure);
      answer(context, retries);
      retries = await waitForRetry(context);
    }
  }
}

function holdInAttention(context: AttentionContext, activity: string, failure: ApplicationFailure): void {
  const { state } = context;
  const [details] = (failure.details ?? []) as { sqlState?: string; constraint?: string | null }[];
  state.attention = {
    step: state.step,
    activity,
    statusBefore: state.attention?.statusBefore ?? state.status,
    failure: failure.type ?? 'unknown',
    sqlState: details?.sqlState ?? null,
    constraint: details?.constraint ?? null,
    since: new Date().toISOString(),
    retries: state.attention?.retries ?? 0,
  };
  log.error('transfer needs attention: a step failed in a way no retry can fix', {
    transferId: context.transferId,
    step: state.step,
    activity,
    failure: state.attention.failure,
    sqlState: state.attention.sqlState,
    constraint: state.attention.constraint,
  });
  context.changeStatus('NEEDS_ATTENTION');
}

/**
 * Waits for an operator's `retry` and audits it; the transfer leaves NEEDS_ATTENTION for the
 * status it had, and the step runs again. A retry whose audit row cannot be written is not acted
 * on (the transfer stays in NEEDS_ATTENTION and the sender hears so).
 */
async function waitForRetry(context: AttentionContext): Promise<RetryRequest[]> {
  const { state, inbox } = context;
  for (;;) {
    await condition(() => inbox.hasRetry);
    const retries = inbox.takeRetries();
    const first = retries[0]!;
    const attention = state.attention!;
    try {
      await context.finishing.recordRetry({
        transferId: context.transferId,
        ownerUserId: context.ownerUserId,
        operator: first.request.operator,
        reason: first.request.reason.trim(),
        via: first.via,
        step: attention.step,
        activity: attention.activity,
        retry: attention.retries + 1,
      });
    } catch (error) {
      if (!(error instanceof TemporalFailure)) throw error;
      log.warn('retry not acted on: its audit row could not be written', { transferId: context.transferId });
      answer(context, retries);
      continue;
    }
    // Kept (with its count) until the step succeeds; shown beside the restored status meanwhile.
    attention.retries += 1;
    context.changeStatus(attention.statusBefore);
    return retries;
  }
}

function answer(context: AttentionContext, retries: RetryRequest[]): void {
  for (const retry of retries) retry.answer?.({ status: context.state.status, step: context.state.step });
}

/** The non-retryable failure that means "escalate", or null for anything else (a refusal, a bug in this code). */
export function finalFailureOf(error: unknown): ApplicationFailure | null {
  if (!(error instanceof TemporalFailure)) return null;
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.nonRetryable && needsAttentionFor(cause.type ?? undefined))
    return cause;
  return null;
}

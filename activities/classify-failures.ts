import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { classifyDatabaseError, ledger_error_prefix, payload_invalid } from '../domain/database-errors';
import { PayloadDecodeError } from '../domain/payload';

/** Counts each failed attempt flagged as retrying too long (wallet_ledger_steps_retrying_long_total), by activity. */
export interface RetryingTooLongCounter {
  inc(labels: { activity: string }): void;
}

/**
 * The same activities, with every error either left retryable for a reason or made final:
 * an error no retry can fix (a broken constraint, a value too long, an undefined column, a
 * payload that does not decode) becomes a non-retryable `ledger_error_<class>` (or
 * `payload_invalid`) failure, logged once as an error, so the workflow escalates the transfer
 * to NEEDS_ATTENTION instead of retrying it forever. Business refusals and other
 * ApplicationFailures pass unchanged. The failure carries the SQLSTATE and the constraint's name,
 * never the database's message, which may quote a row's values.
 */
export function classifyFailures<T extends object>(
  logger: Logger,
  activities: T,
  retryingTooLongMs: number | null = null,
  retryingTooLongCounter?: RetryingTooLongCounter,
): T {
  const classified: Record<string, unknown> = {};
  for (const [name, activity] of Object.entries(activities)) {
    if (typeof activity !== 'function') {
      classified[name] = activity;
      continue;
    }
    classified[name] = async (...args: unknown[]) => {
      try {
        return (await (activity as (...input: unknown[]) => unknown).apply(activities, args)) as unknown;
      } catch (error) {
        const thrown = finalOrAsIs(logger, name, error);
        if (thrown === error && retryingTooLongMs !== null)
          flagIfRetryingTooLong(logger, name, retryingTooLongMs, retryingTooLongCounter);
        throw thrown;
      }
    };
  }
  return classified as T;
}

function finalOrAsIs(logger: Logger, activity: string, error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof PayloadDecodeError) {
    logFinal(logger, activity, { failure: payload_invalid });
    return ApplicationFailure.create({
      type: payload_invalid,
      message: `${activity}: its input does not decode (${error.message})`,
      nonRetryable: true,
    });
  }
  const verdict = classifyDatabaseError(error);
  if (verdict.retry) return error;
  const { sqlState, constraint } = verdict;
  const type = `${ledger_error_prefix}${verdict.errorClass}`;
  logFinal(logger, activity, { failure: type, sql_state: sqlState, constraint });
  return ApplicationFailure.create({
    type,
    message: `${activity} failed with SQLSTATE ${sqlState}${constraint ? ` (constraint ${constraint})` : ''}; no retry can fix it`,
    details: [{ sqlState, constraint }],
    nonRetryable: true,
  });
}

function logFinal(logger: Logger, activity: string, fields: object): void {
  const workflowId = workflowIdOf();
  logger.error(
    { ...fields, activity, transfer_id: workflowId },
    'ledger step failed for good: the transfer or batch needs attention (fix the cause; a transfer then takes `retry`, a batch tries again by itself)',
  );
}

/**
 * A retryable error in a step that has been retrying longer than STUCK_AFTER (since its first
 * attempt was scheduled; a local activity keeps that time across its backoff timers): logged as
 * an error on every failed attempt past it, whatever the transfer's status (a reversal or a
 * review decision retrying is not PENDING, so the stuck listing would not show it), and counted.
 */
function flagIfRetryingTooLong(
  logger: Logger,
  activity: string,
  retryingTooLongMs: number,
  counter: RetryingTooLongCounter | undefined,
): void {
  let info;
  try {
    info = Context.current().info;
  } catch {
    return;
  }
  const retryingMs = Date.now() - info.scheduledTimestampMs;
  if (info.attempt <= 1 || retryingMs <= retryingTooLongMs) return;
  counter?.inc({ activity });
  logger.error(
    {
      activity,
      transfer_id: info.workflowExecution?.workflowId,
      attempt: info.attempt,
      retrying_ms: retryingMs,
      stuck_after_ms: retryingTooLongMs,
    },
    'ledger step retrying longer than STUCK_AFTER: the transfer is stuck (a shard down, a lock held)',
  );
}

/** The transfer's workflow id (the transfer id); absent outside an activity (a direct call in a test). */
function workflowIdOf(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.workflowId;
  } catch {
    return undefined;
  }
}

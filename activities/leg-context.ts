import { ApplicationFailure, Context } from '@temporalio/activity';
import type { TransferFinish } from '../domain/transfer-legs';
import type { FailureReason, TransferStatus } from '../domain/transfers';
import { finishTransfer, type Leg, type WorkflowRun } from '../ledger/postings';
import type { ActivityDependencies } from './types';

/** The workflow run that called this activity; it is written on every ledger row for traceability. */
export function currentExecution(): WorkflowRun {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('wallet activities run only inside transfer workflows');
  return execution;
}

/** Refusals are business outcomes: non-retryable, typed from the fixed list. */
export function refusal(leg: Leg, reason: FailureReason): ApplicationFailure {
  return ApplicationFailure.create({ type: reason, message: `${leg} refused: ${reason}`, nonRetryable: true });
}

/** Per-leg log lines at debug level; a child logger is only built when they are written (the hot path). */
export function logLegDebug(deps: ActivityDependencies, transferId: string, fields: object, message: string): void {
  if (deps.logger.isLevelEnabled('debug')) legLogger(deps, transferId).debug(fields, message);
}

export function legLogger(deps: ActivityDependencies, transferId: string) {
  const info = Context.current().info;
  return deps.logger.child({
    transfer_id: transferId,
    workflow_id: info.workflowExecution?.workflowId,
    activity: info.activityType,
    attempt: info.attempt,
  });
}

/**
 * Makes sure the transfer finished as wanted after its deciding leg. `statusInLeg` is what the
 * leg's own transaction left the record at when the record is on the leg's shard (null
 * otherwise). A record already final in another state raises TransferStateConflict in SQL
 * (finish_transfer), in both cases.
 */
export async function finishAfterLeg(
  deps: ActivityDependencies,
  transferId: string,
  finish: TransferFinish,
  wanted: { status: TransferStatus; failureReason: FailureReason | null },
  statusInLeg: TransferStatus | null,
): Promise<void> {
  // Already as wanted in the leg's own transaction: done. Otherwise finish it now (raises on a conflict).
  if (statusInLeg !== wanted.status) {
    await finishTransfer(
      deps.shards.pool(deps.shards.shardOf(finish.ownerUserId)),
      transferId,
      wanted.status,
      wanted.failureReason,
    );
  }
  deps.completions?.finished(transferId);
  deps.events?.finished({
    transferId,
    ...(finish.kind ? { kind: finish.kind } : {}),
    status: wanted.status,
    failureReason: wanted.failureReason,
  });
}

/** True when the owner's record lives on the shard of the leg's user, so the leg's own transaction finishes it. */
export function finishesInLeg(deps: ActivityDependencies, finish: TransferFinish | undefined, userId: string): boolean {
  return finish !== undefined && deps.shards.shardOf(finish.ownerUserId) === deps.shards.shardOf(userId);
}

import { parseMinor } from '../domain/money';
import { LegAlreadyDecided, refundDebit } from '../ledger/postings';
import { currentExecution, legLogger, recordIsOnShardOf, settleRecord } from './leg-context';
import type { ActivityDependencies, RefundInput } from './types';

/** A refund that loses a race with another attempt of itself is simply run again: the second run replays. */
const refund_race_attempts_max = 3;

/**
 * Compensation: fences the debit (a debit that never ran is voided so it can never run late),
 * returns the money as a new refund posting if the debit was posted, and ends the owner's
 * record as FAILED with the transfer's reason.
 */
export async function refundAndSettle(deps: ActivityDependencies, input: RefundInput): Promise<{ refunded: boolean }> {
  const execution = currentExecution();
  const finishHere = recordIsOnShardOf(deps, input.finish, input.userId);
  const pool = deps.shards.pool(deps.shards.shardOf(input.userId));
  const request = {
    transferId: input.transferId,
    userId: input.userId,
    amountMinor: parseMinor(input.amountMinor),
    currency: input.currency,
    counterparty: input.counterparty,
    workflowId: execution.workflowId,
    runId: execution.runId,
    failureReason: input.failureReason,
    finishHere,
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await refundDebit(pool, request);
      const log = legLogger(deps, input.transferId);
      if (result.refunded) log.warn({ leg: 'refund' }, 'debit refunded');
      else log.info({ debit: result.debitOutcome }, 'nothing to refund');
      if (input.finish) {
        await settleRecord(
          deps,
          input.transferId,
          input.finish,
          { status: 'FAILED', failureReason: input.failureReason },
          finishHere ? result.transferStatus : null,
        );
      }
      return { refunded: result.refunded };
    } catch (error) {
      if (!(error instanceof LegAlreadyDecided) || attempt >= refund_race_attempts_max) throw error;
    }
  }
}

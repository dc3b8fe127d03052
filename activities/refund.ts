import { fromPayload } from '../domain/payload';
import { LegAlreadyDecided, refundDebit } from '../ledger/postings';
import { currentExecution, finishAfterLeg, finishesInLeg, legLogger } from './leg-context';
import type { ActivityDependencies, Refund, RefundInput } from './types';

/** A refund that loses a race with another attempt of itself is simply run again: the second run replays. */
const refund_race_attempts_max = 3;

/**
 * Compensation: fences the debit (a debit that never ran is voided so it can never run late),
 * returns the money as a new refund posting if the debit was posted, and ends the owner's
 * record as FAILED with the transfer's reason.
 */
export async function refundAndFinish(deps: ActivityDependencies, input: RefundInput): Promise<{ refunded: boolean }> {
  const refund = fromPayload<Refund>(input);
  const finishInLeg = finishesInLeg(deps, refund.finish, refund.userId);
  const pool = deps.shards.pool(deps.shards.shardOf(refund.userId));
  const request = { ...refund, ...currentExecution(), finishInLeg };
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await refundDebit(pool, request);
      const log = legLogger(deps, refund.transferId);
      if (result.refunded) log.warn({ leg: 'refund' }, 'debit refunded');
      else log.info({ debit: result.debitOutcome }, 'nothing to refund');
      if (refund.finish) {
        const failed = { status: 'FAILED' as const, failureReason: refund.failureReason };
        await finishAfterLeg(
          deps,
          refund.transferId,
          refund.finish,
          failed,
          finishInLeg ? result.transferStatus : null,
        );
      }
      return { refunded: result.refunded };
    } catch (error) {
      if (!(error instanceof LegAlreadyDecided) || attempt >= refund_race_attempts_max) throw error;
    }
  }
}

import { fromPayload } from '../domain/payload';
import type { LegInput, TransferLeg } from '../domain/transfer-legs';
import type { FailureReason } from '../domain/transfers';
import { fenceDebit } from '../ledger/postings';
import { currentExecution, finishAfterLeg, finishesInLeg, legLogger } from './leg-context';
import type { ActivityDependencies } from './types';

export interface FencedDebit {
  /** posted: the debit did happen, go on; voided: it never will; refused: the ledger said no. */
  outcome: 'posted' | 'voided' | 'refused';
  reason: FailureReason | null;
}

/**
 * Fixes the fate of a debit whose fate the workflow does not know (its attempts ran out, or a late
 * attempt may still be running): the ledger's answer, fixed for good, replaces the guess. A
 * posted debit is never refunded on a guess; the transfer goes on to its credit (a withdrawal
 * was completed by the debit's own transaction). A voided debit ends the transfer FAILED as
 * ledger_unavailable; a refused one was finished with its reason when it was refused.
 */
export async function fenceAndFinish(deps: ActivityDependencies, input: LegInput): Promise<FencedDebit> {
  const { transferId, userId, finish } = fromPayload<TransferLeg>(input);
  const finishInLeg = finishesInLeg(deps, finish, userId);
  const pool = deps.shards.pool(deps.shards.shardOf(userId));
  const fenced = await fenceDebit(pool, { transferId, ...currentExecution(), finishInLeg });
  legLogger(deps, transferId).warn({ leg: 'debit', outcome: fenced.outcome }, 'debit of unknown fate fenced');
  if (fenced.outcome === 'voided') {
    if (finish) {
      const failed = { status: 'FAILED' as const, failureReason: 'ledger_unavailable' as const };
      await finishAfterLeg(deps, transferId, finish, failed, finishInLeg ? fenced.transferStatus : null);
    }
    return { outcome: 'voided', reason: 'ledger_unavailable' };
  }
  if (fenced.outcome === 'refused') {
    deps.completions?.finished(transferId);
    return { outcome: 'refused', reason: fenced.reason };
  }
  // Posted: a withdrawal's record was completed in the debit's own transaction.
  if (finish?.ifPosted) deps.completions?.finished(transferId);
  return { outcome: 'posted', reason: null };
}

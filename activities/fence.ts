import { fenceDebit } from '../ledger/postings';
import type { FailureReason } from '../domain/transfers';
import { currentExecution, legLogger, recordIsOnShardOf, settleRecord } from './leg-context';
import type { ActivityDependencies, LegInput } from './types';

export interface FencedDebit {
  /** posted: the debit did happen, go on; voided: it never will; refused: the ledger said no. */
  outcome: 'posted' | 'voided' | 'refused';
  reason: FailureReason | null;
}

/**
 * Settles a debit whose fate the workflow does not know (its attempts ran out, or a late
 * attempt may still be running): the ledger's answer, fixed for good, replaces the guess. A
 * posted debit is never refunded on a guess; the transfer goes on to its credit (a withdrawal
 * was completed by the debit's own transaction). A voided debit ends the transfer FAILED as
 * ledger_unavailable; a refused one was finished with its reason when it was refused.
 */
export async function fenceAndSettle(deps: ActivityDependencies, input: LegInput): Promise<FencedDebit> {
  const execution = currentExecution();
  const finishHere = recordIsOnShardOf(deps, input.finish, input.userId);
  const pool = deps.shards.pool(deps.shards.shardOf(input.userId));
  const fenced = await fenceDebit(pool, {
    transferId: input.transferId,
    workflowId: execution.workflowId,
    runId: execution.runId,
    finishHere,
  });
  legLogger(deps, input.transferId).warn({ leg: 'debit', outcome: fenced.outcome }, 'debit of unknown fate fenced');
  if (fenced.outcome === 'voided') {
    if (input.finish) {
      await settleRecord(
        deps,
        input.transferId,
        input.finish,
        { status: 'FAILED', failureReason: 'ledger_unavailable' },
        finishHere ? fenced.transferStatus : null,
      );
    }
    return { outcome: 'voided', reason: 'ledger_unavailable' };
  }
  if (fenced.outcome === 'refused') {
    deps.completions?.finished(input.transferId);
    return { outcome: 'refused', reason: fenced.reason };
  }
  // Posted: a withdrawal's record was completed in the debit's own transaction.
  if (input.finish?.ifPosted) deps.completions?.finished(input.transferId);
  return { outcome: 'posted', reason: null };
}

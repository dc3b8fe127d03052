import { fromPayload, type Payload } from '../domain/payload';
import { sidesOf } from '../domain/transfer-legs';
import type { Transfer } from '../domain/transfers';
import { postReversalCredit, postReversalDebit, recordReversal, recordReversalRefusal } from '../ledger/reversals';
import { currentExecution, legLogger } from './leg-context';
import type { ActivityDependencies } from './types';

/**
 * An operator's reversal of a completed transfer (all of it but the note). A converting transfer
 * is reversed at its own rate: the recipient gives back the target amount, the sender gets the
 * source amount.
 */
export interface Reversal extends Omit<Transfer, 'note'> {
  ownerUserId: string;
  operator: string;
  reason: string;
  /** The operator's explicit override: take the money back even if the recipient goes negative. */
  allowNegative: boolean;
  via: 'signal' | 'update';
  /** Which reversal request of this transfer this is (1, 2, ...): keys the audit row of a refusal. */
  attempt: number;
}

/** A reversal as its activity receives it (the wire shape). */
export type ReverseInput = Payload<Reversal>;

export type ReverseResult = { outcome: 'reversed' } | { outcome: 'refused'; reason: 'insufficient_funds' };

/**
 * Reverses a completed transfer with new ledger entries: the recipient is debited (reversal_debit,
 * on their shard) and the sender credited (reversal_credit, on theirs), through clearing when the
 * shards differ (through the FX house at the transfer's own rate when it converted), then the record ends REVERSED and the action is audited. Every step is keyed, so
 * a retried attempt replays what is done and finishes the rest. A recipient who cannot cover the
 * reversal refuses it before anything moves.
 */
export async function reverseAndRecord(deps: ActivityDependencies, payload: ReverseInput): Promise<ReverseResult> {
  const input = fromPayload<Reversal>(payload);
  // Each side gives back what it moved: the recipient the target amount, the sender the source amount.
  const side = sidesOf(input);
  const run = { transferId: input.transferId, ...currentExecution() };
  const poolOf = (userId: string) => deps.shards.pool(deps.shards.shardOf(userId));
  const log = legLogger(deps, input.transferId);
  if (input.toUserId !== null) {
    const debit = await postReversalDebit(poolOf(input.toUserId), {
      ...side.target,
      ...run,
      userId: input.toUserId,
      allowNegative: input.allowNegative,
    });
    if (debit.outcome === 'refused') {
      await deps.shards.withTransaction(deps.shards.shardOf(input.ownerUserId), (client) =>
        recordReversalRefusal(client, { ...input, refusal: debit.reason }),
      );
      log.warn({ operator: input.operator, refusal: debit.reason }, 'reversal refused: the recipient cannot cover it');
      return debit;
    }
  }
  if (input.fromUserId !== null)
    await postReversalCredit(poolOf(input.fromUserId), { ...side.source, ...run, userId: input.fromUserId });
  await recordReversal(poolOf(input.ownerUserId), { ...input, forced: input.allowNegative });
  log.warn({ operator: input.operator, allow_negative: input.allowNegative }, 'transfer reversed');
  deps.events?.finished({ transferId: input.transferId, kind: input.kind, status: 'REVERSED', failureReason: null });
  return { outcome: 'reversed' };
}

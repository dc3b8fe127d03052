import { fromPayload } from '../domain/payload';
import type { LegInput, TransferLeg } from '../domain/transfer-legs';
import {
  LegAlreadyDecided,
  findOutcome,
  postLeg,
  type Leg,
  type PostingRequest,
  type PostingResult,
} from '../ledger/postings';
import { findTransfer } from '../ledger/transfers';
import { crashIfDue } from './chaos-crash';
import { currentExecution, finishAfterLeg, finishesInLeg, refusal } from './leg-context';
import type { ActivityDependencies } from './types';

type EntryKind = PostingRequest['customerEntryKind'];

/**
 * Posts a debit or credit leg once (one statement), then finishes the transfer if the leg
 * decided it. Throws a typed, non-retryable refusal when the ledger said no.
 */
export async function postAndFinish(
  deps: ActivityDependencies,
  input: LegInput,
  leg: Exclude<Leg, 'refund'>,
  entryKind: EntryKind,
): Promise<PostingResult & { outcome: 'posted' | 'voided' }> {
  const { amountMinor, finish, conversion, ...posting } = fromPayload<TransferLeg>(input);
  const finishInLeg = finishesInLeg(deps, finish, posting.userId);
  const request: PostingRequest = {
    ...posting,
    ...currentExecution(),
    leg,
    customerDeltaMinor: leg === 'debit' ? -amountMinor : amountMinor,
    customerEntryKind: entryKind,
    ignoreHolds: false,
    ...(finishInLeg && finish ? { finish } : {}),
  };
  // A converting transfer's credit writes the conversion on the recipient's shard (in the leg's
  // own statement, once), for the recipient's history there; the owner's shard has it since acceptance.
  if (leg === 'credit' && conversion && !finishInLeg) request.conversion = conversion;
  const result = await postOnce(deps, request);
  crashIfDue(deps.chaosCrash, leg, result.outcome);
  const statusInLeg = finishInLeg ? result.transferStatus : null;
  if (result.outcome === 'refused') {
    if (finish?.ifRefused) {
      const failed = { status: 'FAILED' as const, failureReason: result.reason };
      await finishAfterLeg(deps, request.transferId, finish, failed, statusInLeg);
    }
    throw refusal(leg, result.reason);
  }
  if (result.outcome === 'posted' && finish?.ifPosted) {
    await finishAfterLeg(deps, request.transferId, finish, finish.ifPosted, statusInLeg);
  }
  return result as PostingResult & { outcome: 'posted' | 'voided' };
}

/** A lost race with another attempt of the same leg returns that attempt's outcome. */
async function postOnce(deps: ActivityDependencies, request: PostingRequest): Promise<PostingResult> {
  const pool = deps.shards.pool(deps.shards.shardOf(request.userId));
  try {
    return await postLeg(pool, request);
  } catch (error) {
    if (!(error instanceof LegAlreadyDecided)) throw error;
    const decided = await findOutcome(pool, request.transferId, request.leg);
    if (!decided) throw new Error(`leg ${request.transferId}/${request.leg} lost a race but has no outcome`);
    // The winner finished the record in its own transaction when it was on this shard.
    const transferStatus = request.finish ? ((await findTransfer(pool, request.transferId))?.status ?? null) : null;
    return { ...decided, replayed: true, transferStatus };
  }
}

import { parseMinor } from '../domain/money';
import {
  LegAlreadyDecided,
  findOutcome,
  postLeg,
  type Leg,
  type PostingRequest,
  type PostingResult,
} from '../ledger/postings';
import { findTransfer } from '../ledger/transfers';
import { conversionForCredit } from './conversion';
import { currentExecution, recordIsOnShardOf, refusal, settleRecord } from './leg-context';
import type { ActivityDependencies, LegInput } from './types';

type EntryKind = PostingRequest['customerEntryKind'];

/** Fault hook of `npm run chaos` only: per mille of committed legs after which the process kills itself before reporting. Unset: 0. */
const chaos_crash_after_commit_permille = Number(process.env.WALLET_CHAOS_CRASH_AFTER_COMMIT_PERMILLE || 0);
/** With the hook armed, `debit`: only a debit that moved money counts, so the kill lands between a debit and its credit. */
const chaos_crash_after_debit_only = process.env.WALLET_CHAOS_CRASH_AFTER_LEG === 'debit';

/**
 * Posts a debit or credit leg once (one statement), then settles the owner's record if the leg
 * decided the transfer. Throws a typed, non-retryable refusal when the ledger said no.
 */
export async function postAndSettle(
  deps: ActivityDependencies,
  input: LegInput,
  leg: Exclude<Leg, 'refund'>,
  entryKind: EntryKind,
): Promise<PostingResult & { outcome: 'posted' | 'voided' }> {
  const amount = parseMinor(input.amountMinor);
  const finishHere = recordIsOnShardOf(deps, input.finish, input.userId);
  const execution = currentExecution();
  const request: PostingRequest = {
    transferId: input.transferId,
    leg,
    userId: input.userId,
    customerDeltaMinor: leg === 'debit' ? -amount : amount,
    currency: input.currency,
    counterparty: input.counterparty,
    customerEntryKind: entryKind,
    ignoreHolds: false,
    dailyLimitMinor: input.dailyOutgoingMaxMinor ? BigInt(input.dailyOutgoingMaxMinor) : null,
    workflowId: execution.workflowId,
    runId: execution.runId,
    ...(finishHere ? { finish: { ifPosted: input.finish?.ifPosted, ifRefused: input.finish?.ifRefused } } : {}),
  };
  const conversion = leg === 'credit' ? conversionForCredit(input, finishHere) : undefined;
  if (conversion) request.conversion = conversion;
  const result = await postOnce(deps, request);
  if (chaos_crash_after_commit_permille > 0 && chaosCrashDue(leg, result.outcome)) process.kill(process.pid, 'SIGKILL');
  const plan = input.finish;
  if (result.outcome === 'refused') {
    if (plan?.ifRefused) {
      await settleRecord(
        deps,
        input.transferId,
        plan,
        { status: 'FAILED', failureReason: result.reason },
        finishHere ? result.transferStatus : null,
      );
    }
    throw refusal(leg, result.reason);
  }
  if (result.outcome === 'posted' && plan?.ifPosted) {
    await settleRecord(deps, input.transferId, plan, plan.ifPosted, finishHere ? result.transferStatus : null);
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
    // The winner settled the record in its own transaction when it was on this shard.
    const transferStatus = request.finish ? ((await findTransfer(pool, request.transferId))?.status ?? null) : null;
    return { ...decided, replayed: true, transferStatus };
  }
}

function chaosCrashDue(leg: Leg, outcome: PostingResult['outcome']): boolean {
  if (chaos_crash_after_debit_only && (leg !== 'debit' || outcome !== 'posted')) return false;
  return Math.random() * 1000 < chaos_crash_after_commit_permille;
}

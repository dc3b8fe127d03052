import { ActivityFailure, ApplicationFailure, TemporalFailure } from '@temporalio/workflow';
import type { WalletActivities } from '../activities';
import { toPayload } from '../domain/payload';
import type { TransferPolicy } from '../domain/transfer-policy';
import { sidesOf, type LegMoney, type TransferFinish, type TransferLeg } from '../domain/transfer-legs';
import { isFailureReason, ownerOf, type FailureReason, type Transfer } from '../domain/transfers';
import type { TransferState } from './messages';

export interface MoneyMovers {
  /** The leg that may give up (the debit; in a transfer's run, waiting out a busy shard first). */
  debiting: Pick<WalletActivities, 'debitWallet'>;
  /** Legs that must finish once money is in flight (credit, fence, refund). */
  finishing: WalletActivities;
}

/**
 * Debits the sender, credits the recipient, and if the credit is refused after the debit,
 * refunds the sender. Returns the failure reason, or null when the money moved. The leg that
 * decides the transfer also finishes its durable record.
 */
export async function moveMoney(
  transfer: Transfer,
  policy: TransferPolicy | undefined,
  state: TransferState,
  { debiting, finishing }: MoneyMovers,
): Promise<FailureReason | null> {
  const ownerUserId = ownerOf(transfer);
  const side = sidesOf(transfer);
  const leg = (userId: string, money: LegMoney, finish: Omit<TransferFinish, 'ownerUserId'>): TransferLeg => ({
    transferId: transfer.transferId,
    userId,
    ...money,
    finish: { ownerUserId, kind: transfer.kind, ...finish },
  });
  // Only after a refused credit: the debit is known to be posted then.
  const refund = async (fromUserId: string, failureReason: FailureReason) => {
    state.step = 'compensating';
    const input = toPayload({ ...leg(fromUserId, side.source, {}), failureReason });
    state.compensated = (await finishing.refundDebit(input)).refunded;
  };

  let failureReason: FailureReason | null = null;
  if (transfer.fromUserId !== null) {
    state.step = 'debiting';
    // A withdrawal ends with its debit; a transfer's debit ends it only when refused.
    const endsHere =
      transfer.toUserId === null ? { ifPosted: { status: 'COMPLETED' as const, failureReason: null } } : {};
    const debit = toPayload({
      ...leg(transfer.fromUserId, side.source, { ...endsHere, ifRefused: true }),
      dailyOutgoingMaxMinor: policy?.dailyOutgoingMaxMinor ?? null,
    });
    const refused = await refusalOf(debiting.debitWallet(debit), 'ledger_unavailable');
    // A refusal was final and recorded with the leg. A debit whose fate is unknown (retries
    // exhausted, or fenced by an earlier run) is never refunded on a guess: the ledger fixes its
    // fate first, and a debit that did post carries the transfer on.
    if (refused && !refused.recorded) {
      state.step = 'fencing';
      const fenced = await finishing.fenceDebit(debit);
      failureReason = fenced.outcome === 'posted' ? null : (fenced.reason ?? 'ledger_unavailable');
    } else {
      failureReason = refused?.reason ?? null;
    }
  }
  if (failureReason === null && transfer.toUserId !== null) {
    state.step = 'crediting';
    // Only a business refusal ends a credit: anything else fails the run without refunding,
    // because the credit might still land; the run is then rerun, and every leg replays.
    const isDeposit = transfer.fromUserId === null;
    const refused = await refusalOf(
      finishing.creditWallet(
        toPayload(
          leg(transfer.toUserId, side.target, {
            ifPosted: { status: 'COMPLETED', failureReason: null },
            ifRefused: isDeposit,
          }),
        ),
      ),
      null,
    );
    failureReason = refused?.reason ?? null;
    if (refused && transfer.fromUserId !== null) await refund(transfer.fromUserId, refused.reason);
  }
  return failureReason;
}

/**
 * Waits for a leg. A business refusal becomes its reason, `recorded` because the leg's own
 * transaction wrote it. Any other activity failure (retries exhausted) becomes `whenExhausted`,
 * or, when that is null, fails the run. Errors that are not activity failures are bugs and fail
 * the workflow task, to be retried after a fix.
 */
async function refusalOf(
  leg: Promise<unknown>,
  whenExhausted: FailureReason | null,
): Promise<{ reason: FailureReason; recorded: boolean } | null> {
  try {
    await leg;
    return null;
  } catch (error) {
    // A local activity's failure arrives unwrapped (the SDK does not always put it in an
    // ActivityFailure); errors that are no Temporal failure at all are bugs in this code.
    if (!(error instanceof TemporalFailure)) throw error;
    const cause = error instanceof ActivityFailure ? error.cause : error;
    if (cause instanceof ApplicationFailure && cause.nonRetryable && cause.type && isFailureReason(cause.type)) {
      // A debit found fenced by an earlier run is not a decision of the ledger's rules.
      return { reason: cause.type, recorded: cause.type !== 'ledger_unavailable' };
    }
    if (whenExhausted === null) throw error;
    return { reason: whenExhausted, recorded: false };
  }
}

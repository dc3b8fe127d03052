import { ActivityFailure, ApplicationFailure, TemporalFailure } from '@temporalio/workflow';
import type { FinishPlan, LegInput, WalletActivities } from '../activities';
import type { TransferPolicy } from '../domain/transfer-policy';
import { isFailureReason, ownerOf, type FailureReason, type TransferRequest } from '../domain/transfers';
import type { TransferState } from './messages';

export interface MoneyMovers {
  /** Legs that may give up (the debit). */
  debiting: WalletActivities;
  /** Legs that must finish once money is in flight (credit, fence, refund). */
  finishing: WalletActivities;
}

/**
 * Debits the sender, credits the recipient, and if the credit is refused after the debit,
 * refunds the sender. Returns the failure reason, or null when the money moved. The leg that
 * decides the transfer also finishes its durable record.
 */
export async function moveMoney(
  request: TransferRequest,
  policy: TransferPolicy | undefined,
  state: TransferState,
  { debiting, finishing }: MoneyMovers,
): Promise<FailureReason | null> {
  const ownerUserId = ownerOf(request);
  // The sender's side moves the source amount, the recipient's the target amount (the same
  // unless the transfer converts, and then through the FX house instead of clearing).
  const side = sidesOf(request);
  const leg = (userId: string, money: LegMoney, finish: Omit<FinishPlan, 'ownerUserId'>): LegInput => ({
    transferId: request.transferId,
    userId,
    ...money,
    finish: { ownerUserId, kind: request.kind, ...finish },
  });
  // Only after a refused credit: the debit is known to be posted then.
  const refund = async (fromUserId: string, failureReason: FailureReason) => {
    state.step = 'compensating';
    state.compensated = (await finishing.refundDebit({ ...leg(fromUserId, side.source, {}), failureReason })).refunded;
  };

  let failureReason: FailureReason | null = null;
  if (request.fromUserId !== null) {
    state.step = 'debiting';
    // A withdrawal ends with its debit; a transfer's debit ends it only when refused.
    const endsHere =
      request.toUserId === null ? { ifPosted: { status: 'COMPLETED' as const, failureReason: null } } : {};
    const debit = {
      ...leg(request.fromUserId, side.source, { ...endsHere, ifRefused: true }),
      dailyOutgoingMaxMinor: policy?.dailyOutgoingMaxMinor ?? null,
    };
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
  if (failureReason === null && request.toUserId !== null) {
    state.step = 'crediting';
    // Only a business refusal ends a credit: anything else fails the run without refunding,
    // because the credit might still land; the run is then rerun, and every leg replays.
    const isDeposit = request.fromUserId === null;
    const refused = await refusalOf(
      finishing.creditWallet(
        leg(request.toUserId, side.target, {
          ifPosted: { status: 'COMPLETED', failureReason: null },
          ifRefused: isDeposit,
        }),
      ),
      null,
    );
    failureReason = refused?.reason ?? null;
    if (refused && request.fromUserId !== null) await refund(request.fromUserId, refused.reason);
  }
  return failureReason;
}

type LegMoney = Pick<LegInput, 'amountMinor' | 'currency' | 'counterparty' | 'conversion'>;

/** What each side of a transfer moves, and against which system account. */
export function sidesOf(request: TransferRequest): { source: LegMoney; target: LegMoney } {
  const conversion = request.conversion;
  if (!conversion) {
    const money: LegMoney = {
      amountMinor: request.amountMinor,
      currency: request.currency,
      counterparty: request.kind === 'transfer' ? 'clearing' : 'settlement',
    };
    return { source: money, target: money };
  }
  const recorded = { sourceCurrency: request.currency, sourceAmountMinor: request.amountMinor, ...conversion };
  return {
    source: { amountMinor: request.amountMinor, currency: request.currency, counterparty: 'fx', conversion: recorded },
    target: {
      amountMinor: conversion.targetAmountMinor,
      currency: conversion.targetCurrency,
      counterparty: 'fx',
      conversion: recorded,
    },
  };
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

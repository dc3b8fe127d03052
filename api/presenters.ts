import type { BankAccount } from '../ledger/bank-accounts';
import type { ConversionRecord } from '../ledger/fx';
import type { LegRecord } from '../ledger/postings';
import type { TransferRecord } from '../ledger/transfers';

export function transferJson(record: TransferRecord) {
  return {
    transfer_id: record.transferId,
    kind: record.kind,
    status: record.status,
    from_user_id: record.fromUserId,
    to_user_id: record.toUserId,
    amount: record.amountMinor,
    currency: record.currency,
    ...(record.note !== null ? { note: record.note } : {}),
    ...(record.failureReason !== null ? { failure_reason: record.failureReason } : {}),
    created_at: record.createdAt.toISOString(),
    ...(record.completedAt !== null ? { completed_at: record.completedAt.toISOString() } : {}),
    ...(record.reversal !== null
      ? {
          reversal: {
            reversed_at: record.reversal.at.toISOString(),
            reversed_by: record.reversal.by,
            reason: record.reversal.reason,
            allow_negative: record.reversal.forced,
          },
        }
      : {}),
    ...(record.reversalRefusedReason !== null && record.reversal === null
      ? { reversal_refused_reason: record.reversalRefusedReason }
      : {}),
    ...(record.conversion !== null ? { conversion: conversionJson(record.conversion) } : {}),
  };
}

export function conversionJson(conversion: ConversionRecord) {
  return {
    source_amount: conversion.sourceAmountMinor,
    source_currency: conversion.sourceCurrency,
    target_amount: conversion.targetAmountMinor,
    target_currency: conversion.targetCurrency,
    rate: conversion.rate,
    ...(conversion.quoteId !== null ? { quote_id: conversion.quoteId } : {}),
  };
}

/**
 * Each leg's outcome as the ledger recorded it: posted, refused (with the reason) or voided, and
 * what it moves: the sender's legs (debit, refund, reversal_credit) the source amount, the
 * recipient's (credit, reversal_debit) the target amount, which differ only when it converts.
 */
export function legsJson(record: TransferRecord, legs: LegRecord[]) {
  const recipientSide = record.conversion
    ? { amount: record.conversion.targetAmountMinor, currency: record.conversion.targetCurrency }
    : { amount: record.amountMinor, currency: record.currency };
  const senderSide = { amount: record.amountMinor, currency: record.currency };
  return legs.map((leg) => ({
    leg: leg.leg,
    ...(leg.leg === 'credit' || leg.leg === 'reversal_debit' ? recipientSide : senderSide),
    outcome: leg.outcome,
    ...(leg.reason !== null ? { reason: leg.reason } : {}),
    decided_at: leg.createdAt.toISOString(),
  }));
}

export function acceptedJson(record: TransferRecord) {
  return { transfer_id: record.transferId, status: record.status, created_at: record.createdAt.toISOString() };
}

/** A wallet's entries of a payout: their transfer_id is the payout's id. */
const payout_entry_kinds: ReadonlySet<string> = new Set(['payout_hold', 'payout_release', 'payout_return']);

/** Where an entry's transfer, or payout, is read. */
export function movementPathOf(entry: { kind: string; transferId: string }): string {
  // A pay-in's deposit is keyed 'pi_<trace number>' (ledger/payins.ts).
  if (entry.transferId.startsWith('pi_')) return `/v1/wallet/payins/${entry.transferId.slice('pi_'.length)}`;
  return payout_entry_kinds.has(entry.kind)
    ? `/v1/wallet/payouts/${entry.transferId}`
    : `/v1/wallet/transfers/${entry.transferId}`;
}

/** A bank account as answered: masked (the ledger module never hands the whole number here). */
export function bankAccountJson(account: BankAccount) {
  return {
    bank_account_id: account.bankAccountId,
    user_id: account.userId,
    rail: account.details.rail,
    currency: account.currency,
    holder_name: account.holderName,
    ach: {
      routing_number: account.details.ach.routingNumber,
      account_type: account.details.ach.accountType,
      account_number_last4: account.details.ach.last4,
    },
    created_at: account.createdAt.toISOString(),
    deleted_at: account.deletedAt?.toISOString() ?? null,
  };
}

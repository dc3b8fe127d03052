import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

/**
 * Custom search attributes the transfer workflow keeps up to date, so the Temporal Web UI can
 * filter transfers (e.g. `TransferStatus = "FAILED" and FromUser = "alice"`). The dev server
 * registers them at start; a cluster needs `temporal operator search-attribute create` once.
 */
export const TransferStatusKey = defineSearchAttributeKey('TransferStatus', SearchAttributeType.KEYWORD);
export const FromUserKey = defineSearchAttributeKey('FromUser', SearchAttributeType.KEYWORD);
export const ToUserKey = defineSearchAttributeKey('ToUser', SearchAttributeType.KEYWORD);
export const AmountMinorKey = defineSearchAttributeKey('AmountMinor', SearchAttributeType.INT);
export const CurrencyKey = defineSearchAttributeKey('Currency', SearchAttributeType.KEYWORD);
/** Set on a batch's workflow only while a step of it failed for good (NEEDS_ATTENTION), then RUNNING again. */
export const BatchStatusKey = defineSearchAttributeKey('BatchStatus', SearchAttributeType.KEYWORD);
/** A payout's status (domain/payouts.ts): `PayoutStatus = "SUBMITTED"` lists the payouts the bank has and has not settled. */
export const PayoutStatusKey = defineSearchAttributeKey('PayoutStatus', SearchAttributeType.KEYWORD);

export const transfer_search_attributes = [
  TransferStatusKey,
  FromUserKey,
  ToUserKey,
  AmountMinorKey,
  CurrencyKey,
  BatchStatusKey,
  PayoutStatusKey,
];

/** The `--search-attribute NAME=Type` arguments for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  const typeNames: Partial<Record<string, string>> = { KEYWORD: 'Keyword', INT: 'Int' };
  return transfer_search_attributes.flatMap((key) => ['--search-attribute', `${key.name}=${typeNames[key.type]}`]);
}

import { parseMinor } from '../domain/money';
import type { Conversion } from '../ledger/fx';
import type { LegInput } from './types';

/**
 * The conversion a converting transfer's credit writes on the recipient's shard (in the leg's
 * own statement, once), so the recipient's history there can show the rate and both amounts.
 * None when the recipient's shard is the owner's: the record's shard has it since acceptance.
 */
export function conversionForCredit(input: LegInput, sameShardAsOwner: boolean): Conversion | undefined {
  const conversion = input.conversion;
  if (!conversion || sameShardAsOwner) return undefined;
  return {
    sourceCurrency: conversion.sourceCurrency,
    sourceAmountMinor: parseMinor(conversion.sourceAmountMinor),
    targetCurrency: conversion.targetCurrency,
    targetAmountMinor: parseMinor(conversion.targetAmountMinor),
    rate: conversion.rate,
    quoteId: null,
  };
}

import { parseMinor } from '../domain/money';
import { recordConversion } from '../ledger/fx';
import type { ActivityDependencies, LegInput } from './types';

/**
 * A converting transfer's credit first writes the conversion on the recipient's shard (once;
 * a repeat changes nothing), so the recipient's history there can show the rate and both
 * amounts. The owner's shard has it from when the transfer was accepted.
 */
export async function recordConversionOfCredit(deps: ActivityDependencies, input: LegInput): Promise<void> {
  const conversion = input.conversion;
  if (!conversion || !input.finish) return;
  const shard = deps.shards.shardOf(input.userId);
  if (shard === deps.shards.shardOf(input.finish.ownerUserId)) return;
  await recordConversion(deps.shards.pool(shard), input.transferId, {
    sourceCurrency: conversion.sourceCurrency,
    sourceAmountMinor: parseMinor(conversion.sourceAmountMinor),
    targetCurrency: conversion.targetCurrency,
    targetAmountMinor: parseMinor(conversion.targetAmountMinor),
    rate: conversion.rate,
    quoteId: null,
  });
}

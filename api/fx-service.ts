import { randomBytes } from 'node:crypto';
import type { ShardSet } from '../db/shards';
import { convertMinor, formatRate, parseRate } from '../domain/fx';
import { transfer_amount_max_minor } from '../domain/money';
import { currentRate, insertQuote, lockQuote, markQuoteUsed, recordConversion, type Conversion } from '../ledger/fx';
import { findTransfer, registerTransfer, type NewTransfer, type TransferRecord } from '../ledger/transfers';
import { ApiError } from './errors';

/** Rates and everything else the wallet keeps once for all shards live on shard 0. */
export const reference_shard = 0;

export interface Price {
  rate: string;
  targetAmountMinor: bigint;
}

export interface Quote extends Price {
  quoteId: string;
  sourceCurrency: string;
  targetCurrency: string;
  sourceAmountMinor: bigint;
  expiresAt: Date;
}

/** What a converting transfer asked for: the target currency, and the quote that fixes its rate, if any. */
export interface ConversionTarget {
  currency: string;
  quoteId: string | null;
}

/**
 * Prices conversions from the rates ops set, hands out quotes that lock a rate for QUOTE_TTL,
 * and records converting transfers with their conversion fixed once: the rate a transfer uses
 * is decided here, before its workflow starts, and never again.
 */
export class FxService {
  constructor(private readonly deps: { shards: ShardSet; quoteTtlMs: number }) {}

  /** The current rate of the pair and what `sourceMinor` converts to at it (rounded down; never zero). */
  async price(sourceCurrency: string, targetCurrency: string, sourceMinor: bigint): Promise<Price> {
    const current = await currentRate(this.deps.shards.pool(reference_shard), sourceCurrency, targetCurrency);
    if (!current) throw new ApiError('rate_unavailable', `no rate is set for ${sourceCurrency}/${targetCurrency}`);
    const rate = parseRate(current.rate);
    const targetAmountMinor = convertMinor(sourceMinor, sourceCurrency, targetCurrency, rate);
    if (targetAmountMinor === 0n) {
      throw new ApiError('amount_too_small', `${sourceMinor} minor units of ${sourceCurrency} convert to less than one minor unit of ${targetCurrency} at ${current.rate}`);
    }
    // Every amount stays a safe JSON integer (and an int8): a rate can make the target far larger than the source.
    if (targetAmountMinor > transfer_amount_max_minor) {
      throw new ApiError('limit_exceeded', `${sourceMinor} ${sourceCurrency} converts to more than ${transfer_amount_max_minor} minor units of ${targetCurrency}`);
    }
    return { rate: formatRate(rate), targetAmountMinor };
  }

  /** A quote for the user: the price now, locked until it expires, usable for one transfer of exactly this amount. */
  async quote(userId: string, sourceCurrency: string, targetCurrency: string, sourceMinor: bigint): Promise<Quote> {
    const price = await this.price(sourceCurrency, targetCurrency, sourceMinor);
    const quoteId = `q_${randomBytes(16).toString('hex')}`;
    const quote = { quoteId, userId, sourceCurrency, targetCurrency, sourceAmountMinor: sourceMinor, ...price };
    const expiresAt = await insertQuote(this.deps.shards.pool(this.deps.shards.shardOf(userId)), quote, this.deps.quoteTtlMs);
    return { ...quote, expiresAt };
  }

  /**
   * Records a converting transfer on its owner's shard, with its conversion, in one transaction.
   * A retry (the record exists) gets the record as it was, whatever the rates or the quote say
   * now. A new one is priced from its quote (locked, checked, used up in the same transaction)
   * or, without one, at the current rate.
   */
  async register(transfer: NewTransfer & { fromUserId: string }, target: ConversionTarget): Promise<{ record: TransferRecord; inserted: boolean }> {
    const shard = this.deps.shards.shardOf(transfer.ownerUserId);
    const existing = await findTransfer(this.deps.shards.pool(shard), transfer.transferId);
    if (existing) return { record: existing, inserted: false };
    const priced = target.quoteId === null ? await this.price(transfer.currency, target.currency, transfer.amountMinor) : null;
    return this.deps.shards.withTransaction(shard, async (client) => {
      let conversion: Conversion;
      if (target.quoteId !== null) {
        const quote = await lockQuote(client, target.quoteId, transfer.fromUserId);
        if (!quote) throw new ApiError('quote_not_found', `no quote ${target.quoteId} for ${transfer.fromUserId}`);
        if (quote.usedBy !== null && quote.usedBy !== transfer.transferId) throw new ApiError('quote_already_used', `quote ${quote.quoteId} was used by another transfer`);
        if (quote.expired && quote.usedBy === null) throw new ApiError('quote_expired', `quote ${quote.quoteId} expired at ${quote.expiresAt.toISOString()}; ask for a new one`);
        if (quote.sourceCurrency !== transfer.currency || quote.targetCurrency !== target.currency || quote.sourceAmountMinor !== transfer.amountMinor) {
          throw new ApiError(
            'quote_mismatch',
            `quote ${quote.quoteId} is for ${quote.sourceAmountMinor} ${quote.sourceCurrency} to ${quote.targetCurrency}, not ${transfer.amountMinor} ${transfer.currency} to ${target.currency}`,
          );
        }
        const { sourceCurrency, sourceAmountMinor, targetCurrency, targetAmountMinor, rate, quoteId } = quote;
        conversion = { sourceCurrency, sourceAmountMinor, targetCurrency, targetAmountMinor, rate, quoteId };
      } else {
        conversion = { sourceCurrency: transfer.currency, sourceAmountMinor: transfer.amountMinor, targetCurrency: target.currency, targetAmountMinor: priced!.targetAmountMinor, rate: priced!.rate, quoteId: null };
      }
      const registered = await registerTransfer(client, transfer);
      // A racing identical request recorded it first: its record (and conversion) stands.
      if (!registered.inserted) return registered;
      await recordConversion(client, transfer.transferId, conversion);
      if (conversion.quoteId !== null) await markQuoteUsed(client, conversion.quoteId, transfer.transferId);
      return { record: { ...registered.record, conversion }, inserted: true };
    });
  }
}

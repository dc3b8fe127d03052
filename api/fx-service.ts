import { randomBytes } from 'node:crypto';
import type { ShardSet } from '../db/shards';
import { convertMinor, formatRate, parseRate } from '../domain/fx';
import { transfer_amount_max_minor } from '../domain/money';
import { reference_shard } from '../domain/shard-routing';
import { currentRate, insertQuote, lockQuote, type FxQuote } from '../ledger/fx';
import { findTransfer, registerTransfer, type NewTransfer, type TransferRecord } from '../ledger/transfers';
import { ApiError } from './errors';

/** How long a process prices with a rate it read (the pairs are few, so the cache stays small). */
const rate_cache_ms = 1_000;

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
  /** Current rates read within rate_cache_ms, by pair: a conversion then costs no read of the reference shard. */
  private readonly rates = new Map<string, { rate: string; readAtMs: number }>();

  constructor(private readonly deps: { shards: ShardSet; quoteTtlMs: number }) {}

  /** The current rate of the pair and what `sourceMinor` converts to at it (rounded down; never zero). */
  async price(sourceCurrency: string, targetCurrency: string, sourceMinor: bigint): Promise<Price> {
    const current = await this.currentRate(sourceCurrency, targetCurrency);
    if (!current) throw new ApiError('rate_unavailable', `no rate is set for ${sourceCurrency}/${targetCurrency}`);
    const rate = parseRate(current.rate);
    const targetAmountMinor = convertMinor(sourceMinor, sourceCurrency, targetCurrency, rate);
    if (targetAmountMinor === 0n) {
      throw new ApiError(
        'amount_too_small',
        `${sourceMinor} minor units of ${sourceCurrency} convert to less than one minor unit of ${targetCurrency} at ${current.rate}`,
      );
    }
    // Every amount stays a safe JSON integer (and an int8): a rate can make the target far larger than the source.
    if (targetAmountMinor > transfer_amount_max_minor) {
      throw new ApiError(
        'limit_exceeded',
        `${sourceMinor} ${sourceCurrency} converts to more than ${transfer_amount_max_minor} minor units of ${targetCurrency}`,
      );
    }
    return { rate: formatRate(rate), targetAmountMinor };
  }

  /** A rate set through this process applies at once here; other processes see it within rate_cache_ms. */
  forgetRate(base: string, quote: string): void {
    this.rates.delete(`${base}/${quote}`);
  }

  /**
   * The pair's current rate, read from the reference shard at most once per rate_cache_ms. A rate is
   * priced from then on, so it may be up to that old when a transfer fixes it: far less than a
   * quote's lifetime, which is the staleness the wallet already promises.
   */
  private async currentRate(base: string, quote: string): Promise<{ rate: string } | undefined> {
    const pair = `${base}/${quote}`;
    const cached = this.rates.get(pair);
    if (cached && performance.now() - cached.readAtMs < rate_cache_ms) return cached;
    const read = await currentRate(this.deps.shards.pool(reference_shard), base, quote);
    if (!read) return undefined;
    const fresh = { rate: read.rate, readAtMs: performance.now() };
    this.rates.set(pair, fresh);
    return fresh;
  }

  /** A quote for the user: the price now, locked until it expires, usable for one transfer of exactly this amount. */
  async quote(userId: string, sourceCurrency: string, targetCurrency: string, sourceMinor: bigint): Promise<Quote> {
    const price = await this.price(sourceCurrency, targetCurrency, sourceMinor);
    const quoteId = `q_${randomBytes(16).toString('hex')}`;
    const quote = { quoteId, userId, sourceCurrency, targetCurrency, sourceAmountMinor: sourceMinor, ...price };
    const expiresAt = await insertQuote(
      this.deps.shards.pool(this.deps.shards.shardOf(userId)),
      quote,
      this.deps.quoteTtlMs,
    );
    return { ...quote, expiresAt };
  }

  /**
   * Records a converting transfer on its owner's shard with its conversion fixed once. A retry
   * (the record exists) gets the record as it was, whatever the rates or the quote say now.
   * Without a quote: priced at the current rate, recorded in one statement. With one: the quote
   * is locked, checked and used up in the record's own transaction.
   */
  async register(
    transfer: NewTransfer & { fromUserId: string },
    target: ConversionTarget,
  ): Promise<{ record: TransferRecord; inserted: boolean }> {
    const shard = this.deps.shards.shardOf(transfer.ownerUserId);
    if (target.quoteId === null) {
      const priced = await this.price(transfer.currency, target.currency, transfer.amountMinor).catch(
        async (error: unknown) => {
          // The rate moved since the first request: its retry still finds the record it made.
          const existing = await findTransfer(this.deps.shards.pool(shard), transfer.transferId);
          if (existing) return existing;
          throw error;
        },
      );
      if (!('targetAmountMinor' in priced)) return { record: priced, inserted: false };
      const conversion = {
        sourceCurrency: transfer.currency,
        sourceAmountMinor: transfer.amountMinor,
        targetCurrency: target.currency,
        ...priced,
        quoteId: null,
      };
      return registerTransfer(this.deps.shards.pool(shard), transfer, conversion);
    }
    const quoteId = target.quoteId;
    return this.deps.shards.withTransaction(shard, async (client) => {
      const quote = await lockQuote(client, quoteId, transfer.fromUserId);
      if (!quote) throw new ApiError('quote_not_found', `no quote ${quoteId} for ${transfer.fromUserId}`);
      // Used by this very transfer: a retry, answered with the record below.
      if (quote.usedBy === null || quote.usedBy !== transfer.transferId) checkQuote(quote, transfer, target);
      const { sourceCurrency, sourceAmountMinor, targetCurrency, targetAmountMinor, rate } = quote;
      return registerTransfer(client, transfer, {
        sourceCurrency,
        sourceAmountMinor,
        targetCurrency,
        targetAmountMinor,
        rate,
        quoteId,
      });
    });
  }
}

/** A quote serves one transfer: of its user (checked by the lookup), its amount and pair, before it expires. */
function checkQuote(quote: FxQuote, transfer: NewTransfer, target: ConversionTarget): void {
  if (quote.usedBy !== null)
    throw new ApiError('quote_already_used', `quote ${quote.quoteId} was used by another transfer`);
  if (quote.expired)
    throw new ApiError(
      'quote_expired',
      `quote ${quote.quoteId} expired at ${quote.expiresAt.toISOString()}; ask for a new one`,
    );
  if (
    quote.sourceCurrency !== transfer.currency ||
    quote.targetCurrency !== target.currency ||
    quote.sourceAmountMinor !== transfer.amountMinor
  ) {
    throw new ApiError(
      'quote_mismatch',
      `quote ${quote.quoteId} is for ${quote.sourceAmountMinor} ${quote.sourceCurrency} to ${quote.targetCurrency}, not ${transfer.amountMinor} ${transfer.currency} to ${target.currency}`,
    );
  }
}

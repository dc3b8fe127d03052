import type pg from 'pg';
import type { Conversion } from '../domain/transfers';

/** A pair's rate as ops set it: units of `quote` for one unit of `base`, exact decimal text. */
export interface FxRate {
  base: string;
  quote: string;
  rate: string;
  setBy: string;
  reason: string | null;
  setAt: Date;
}

interface RateRow {
  base: string;
  quote: string;
  rate: string;
  set_by: string;
  reason: string | null;
  set_at: Date;
}

const rateOf = (row: RateRow): FxRate => ({
  base: row.base,
  quote: row.quote,
  rate: row.rate,
  setBy: row.set_by,
  reason: row.reason,
  setAt: row.set_at,
});

/** Rate history rows returned per request. */
const rate_history_max = 100;

/**
 * Sets a pair's rate (a new row; the history is never rewritten) and audits it in the same
 * statement. Rates live on the reference shard (domain/shard-routing.ts).
 */
export async function setRate(
  client: pg.Pool,
  change: { base: string; quote: string; rate: string; setBy: string; reason: string | null },
): Promise<FxRate> {
  const found = await client.query<RateRow>(
    `with set as (
       insert into fx_rates (base, quote, rate, set_by, reason)
       values ($1::char(3), $2::char(3), $3::numeric, $4::text, $5::text)
       returning base, quote, rate::text, set_by, reason, set_at),
     audited as (
       insert into ops_audit (operator, action, target_type, target_id, reason, via, details)
       select set_by, 'fx_rate_set', 'fx_rate', base || '/' || quote, reason, 'http', jsonb_build_object('rate', rate)
         from set)
     select * from set`,
    [change.base, change.quote, change.rate, change.setBy, change.reason],
  );
  return rateOf(found.rows[0]!);
}

/** The pair's current rate (its newest), or undefined when ops never set one. */
export async function currentRate(client: pg.Pool, base: string, quote: string): Promise<FxRate | undefined> {
  const found = await client.query<RateRow>({
    name: 'fx_current_rate',
    text: `select base, quote, rate::text as rate, set_by, reason, set_at from fx_rates
            where base = $1::char(3) and quote = $2::char(3) order by rate_id desc limit 1`,
    values: [base, quote],
  });
  return found.rows[0] && rateOf(found.rows[0]);
}

/** Every pair's current rate, by pair. */
export async function currentRates(client: pg.Pool): Promise<FxRate[]> {
  const found = await client.query<RateRow>(
    `select distinct on (base, quote) base, quote, rate::text as rate, set_by, reason, set_at
       from fx_rates order by base, quote, rate_id desc`,
  );
  return found.rows.map(rateOf);
}

/** A pair's rates, newest first: who set what, when, and why. */
export async function rateHistory(client: pg.Pool, base: string, quote: string): Promise<FxRate[]> {
  const found = await client.query<RateRow>(
    `select base, quote, rate::text as rate, set_by, reason, set_at from fx_rates
      where base = $1::char(3) and quote = $2::char(3) order by rate_id desc limit $3::int`,
    [base, quote, rate_history_max],
  );
  return found.rows.map(rateOf);
}

/** A transfer's conversion as recorded when it was accepted, with the quote that fixed its rate, if one did. */
export interface ConversionRecord extends Conversion {
  quoteId: string | null;
}

export interface FxQuote extends Conversion {
  quoteId: string;
  userId: string;
  expiresAt: Date;
  usedBy: string | null;
  expired: boolean;
}

/** Stores a quote on its user's shard; it expires ttlMs from the database's now. */
export async function insertQuote(
  client: pg.Pool,
  quote: Omit<FxQuote, 'expiresAt' | 'usedBy' | 'expired'>,
  ttlMs: number,
): Promise<Date> {
  const found = await client.query<{ expires_at: Date }>(
    `insert into fx_quotes (quote_id, user_id, source_currency, target_currency, rate, source_amount, target_amount, expires_at)
     values ($1::text, $2::text, $3::char(3), $4::char(3), $5::numeric, $6::bigint, $7::bigint, now() + make_interval(secs => $8::double precision / 1000))
     returning expires_at`,
    [
      quote.quoteId,
      quote.userId,
      quote.sourceCurrency,
      quote.targetCurrency,
      quote.rate,
      quote.sourceAmountMinor.toString(),
      quote.targetAmountMinor.toString(),
      ttlMs,
    ],
  );
  return found.rows[0]!.expires_at;
}

/**
 * The user's quote, locked until the caller's transaction ends, so two transfers cannot both
 * use it. Another user's quote is not found. `expired` is decided by the database clock.
 */
export async function lockQuote(client: pg.PoolClient, quoteId: string, userId: string): Promise<FxQuote | undefined> {
  const found = await client.query<{
    quote_id: string;
    user_id: string;
    source_currency: string;
    target_currency: string;
    rate: string;
    source_amount: string;
    target_amount: string;
    expires_at: Date;
    used_by: string | null;
    expired: boolean;
  }>(
    `select quote_id, user_id, source_currency, target_currency, rate::text as rate, source_amount, target_amount,
            expires_at, used_by, expires_at <= now() as expired
       from fx_quotes where quote_id = $1::text and user_id = $2::text for update`,
    [quoteId, userId],
  );
  const row = found.rows[0];
  if (!row) return undefined;
  return {
    quoteId: row.quote_id,
    userId: row.user_id,
    sourceCurrency: row.source_currency,
    targetCurrency: row.target_currency,
    rate: row.rate,
    sourceAmountMinor: BigInt(row.source_amount),
    targetAmountMinor: BigInt(row.target_amount),
    expiresAt: row.expires_at,
    usedBy: row.used_by,
    expired: row.expired,
  };
}

/** The SQL for a record's conversion as one json column (amounts as text: exact), for reads of transfers. */
export const conversion_json_sql = `(select jsonb_build_object(
    'source_currency', c.source_currency, 'source_amount', c.source_amount::text,
    'target_currency', c.target_currency, 'target_amount', c.target_amount::text,
    'rate', c.rate::text, 'quote_id', c.quote_id)
   from conversions c where c.transfer_id = transfers.transfer_id) as conversion`;

export interface ConversionJson {
  source_currency: string;
  source_amount: string;
  target_currency: string;
  target_amount: string;
  rate: string;
  quote_id: string | null;
}

export function conversionOf(json: ConversionJson | null | undefined): ConversionRecord | null {
  if (!json) return null;
  return {
    sourceCurrency: json.source_currency,
    sourceAmountMinor: BigInt(json.source_amount),
    targetCurrency: json.target_currency,
    targetAmountMinor: BigInt(json.target_amount),
    rate: json.rate,
    quoteId: json.quote_id,
  };
}

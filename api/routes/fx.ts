import { Router } from 'express';
import type { ShardSet } from '../../db/shards';
import { formatRate, parseRate } from '../../domain/fx';
import { reference_shard } from '../../domain/shard-routing';
import { currentRates, rateHistory, setRate, type FxRate } from '../../ledger/fx';
import { principalOf, requireOps } from '../auth';
import { requireSupportedCurrencies } from '../currencies';
import { ApiError } from '../errors';
import type { FxService } from '../fx-service';
import { sendJson } from '../json';
import { QuoteBody, RatePairParams, SetRateBody } from '../schemas';
import { validate } from '../validate';

/** Rates (set by ops, with their history) and quotes (a rate locked for one user and amount). */
export function fxRoutes(shards: ShardSet, fx: FxService, currencies: ReadonlySet<string>): Router {
  const router = Router();
  const reference = () => shards.pool(reference_shard);

  // A quote belongs to whoever asked (the token's subject): only their transfers can use it.
  router.post('/v1/wallet/fx/quotes', async (request, response) => {
    const body = validate(QuoteBody, request.body, 'body');
    requireSupportedCurrencies(currencies, body.from_currency, body.to_currency);
    const quote = await fx.quote(
      principalOf(request).userId,
      body.from_currency,
      body.to_currency,
      BigInt(body.amount),
    );
    sendJson(response, 201, {
      quote_id: quote.quoteId,
      from_currency: quote.sourceCurrency,
      to_currency: quote.targetCurrency,
      rate: quote.rate,
      source_amount: quote.sourceAmountMinor,
      target_amount: quote.targetAmountMinor,
      expires_at: quote.expiresAt.toISOString(),
    });
  });

  router.put('/v1/ops/fx/rates/:base/:quote', async (request, response) => {
    requireOps(request);
    const { base, quote } = validate(RatePairParams, request.params, 'path');
    requireSupportedCurrencies(currencies, base, quote);
    if (base === quote) throw new ApiError('invalid_request', 'a rate needs two different currencies');
    const body = validate(SetRateBody, request.body, 'body');
    const set = await setRate(reference(), {
      base,
      quote,
      rate: formatRate(parseRate(body.rate)),
      setBy: principalOf(request).userId,
      reason: body.reason ?? null,
    });
    fx.forgetRate(base, quote);
    sendJson(response, 200, rateJson(set));
  });

  router.get('/v1/ops/fx/rates', async (request, response) => {
    requireOps(request);
    sendJson(response, 200, { rates: (await currentRates(reference())).map(rateJson) });
  });

  router.get('/v1/ops/fx/rates/:base/:quote', async (request, response) => {
    requireOps(request);
    const { base, quote } = validate(RatePairParams, request.params, 'path');
    const history = await rateHistory(reference(), base, quote);
    if (history.length === 0) throw new ApiError('rate_unavailable', `no rate was ever set for ${base}/${quote}`);
    sendJson(response, 200, { ...rateJson(history[0]!), history: history.map(rateJson) });
  });

  return router;
}

function rateJson(rate: FxRate) {
  return {
    base: rate.base,
    quote: rate.quote,
    rate: rate.rate,
    set_by: rate.setBy,
    ...(rate.reason !== null ? { reason: rate.reason } : {}),
    set_at: rate.setAt.toISOString(),
  };
}

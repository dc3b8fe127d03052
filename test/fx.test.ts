import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ShardSet } from '../db/shards';
import { balanceTotals } from '../ledger/balance-checks';
import { driftedAccounts, ledgerTotals, userOnShard } from './support/ledger';
import { startTestStack, test_timings, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';

/** Per currency, shard by shard: every account kind summed (customer, clearing, settlement, fx) must be zero. */
async function currencySumsByShard(shards: ShardSet): Promise<{ shard: number; currency: string; sum: bigint }[]> {
  const sums: { shard: number; currency: string; sum: bigint }[] = [];
  for (const [shard, pool] of shards.pools.entries()) {
    const byCurrency = new Map<string, bigint>();
    for (const row of await balanceTotals(pool))
      byCurrency.set(row.currency, (byCurrency.get(row.currency) ?? 0n) + row.totalMinor);
    sums.push(...[...byCurrency].map(([currency, sum]) => ({ shard, currency, sum })));
  }
  return sums;
}

/** Cross-currency transfers through the FX house accounts, end to end on the real stack. */
describe('FX: rates, quotes and cross-currency transfers', () => {
  let stack: TestStack;
  const quote_ttl_ms = 4_000;
  const ops = (operator = 'ops_treasury') => ({ as: operator, role: 'ops' as const });
  const setRate = (base: string, quote: string, rate: unknown, operator = 'ops_treasury') =>
    stack.api.call('PUT', `/v1/ops/fx/rates/${base}/${quote}`, {
      ...ops(operator),
      body: { rate, reason: 'morning fixing' },
    });
  const quoteFor = (userId: string, body: object) =>
    stack.api.call('POST', '/v1/wallet/fx/quotes', { as: userId, body });
  const convert = (from: string, to: string, amount: number, extra: object, key = uniqueName('fx')) =>
    stack.api.transfer(from, to, amount, key, 30, extra);

  before(async () => {
    stack = await startTestStack({ quoteTtlMs: quote_ttl_ms, timings: { ...test_timings, reversalWindowMs: 120_000 } });
    assert.equal((await setRate('USD', 'EUR', '0.9215')).status, 200);
    assert.equal((await setRate('EUR', 'USD', '1.0845')).status, 200);
    assert.equal((await setRate('USD', 'JPY', '150.5')).status, 200);
    assert.equal((await setRate('JPY', 'USD', '0.0067')).status, 200);
    assert.equal((await setRate('USD', 'BHD', '0.376')).status, 200);
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(stack.shards), []);
    assert.deepEqual(
      (await currencySumsByShard(stack.shards)).filter((line) => line.sum !== 0n),
      [],
    );
    await stack.stop();
  });

  async function funded(shard: number, amount: number, currency = 'USD'): Promise<string> {
    const userId = userOnShard(stack.shards, shard, 'fx');
    assert.equal((await stack.api.createUser(userId)).status, 201);
    if (amount > 0)
      assert.equal((await stack.api.deposit(userId, amount, uniqueName('dep'), currency)).body.status, 'COMPLETED');
    return userId;
  }
  const historyOf = async (userId: string) =>
    (await stack.api.call('GET', `/v1/wallet/${userId}/transactions`, stack.api.ops)).body.entries;

  describe('rates', () => {
    it('are set by ops only, as exact decimal strings, kept with their history and audited', async () => {
      const customer = await funded(0, 0);
      const refused = await stack.api.call('PUT', '/v1/ops/fx/rates/GBP/USD', { as: customer, body: { rate: '1.27' } });
      assert.equal(refused.status, 403);
      assert.equal((await setRate('GBP', 'USD', '1.2700', 'ops_a')).body.rate, '1.27');
      const second = await setRate('GBP', 'USD', '1.2650', 'ops_b');
      assert.deepEqual(
        { ...second.body, set_at: undefined },
        { base: 'GBP', quote: 'USD', rate: '1.265', set_by: 'ops_b', reason: 'morning fixing', set_at: undefined },
      );
      const pair = await stack.api.call('GET', '/v1/ops/fx/rates/GBP/USD', stack.api.ops);
      assert.equal(pair.body.rate, '1.265');
      assert.deepEqual(
        pair.body.history.map((line: { rate: string; set_by: string }) => [line.rate, line.set_by]),
        [
          ['1.265', 'ops_b'],
          ['1.27', 'ops_a'],
        ],
      );
      const all = await stack.api.call('GET', '/v1/ops/fx/rates', stack.api.ops);
      assert.ok(
        all.body.rates.some(
          (line: { base: string; quote: string; rate: string }) =>
            line.base === 'GBP' && line.quote === 'USD' && line.rate === '1.265',
        ),
      );
      const audit = await stack.api.call('GET', '/v1/ops/audit?target=GBP%2FUSD', stack.api.ops);
      assert.deepEqual(
        audit.body.entries.map((entry: { action: string; operator: string }) => [entry.action, entry.operator]),
        [
          ['fx_rate_set', 'ops_b'],
          ['fx_rate_set', 'ops_a'],
        ],
      );
      // The README documents this filter; it once answered 400 (the action was missing from the list).
      const byAction = await stack.api.call('GET', '/v1/ops/audit?action=fx_rate_set&target=GBP%2FUSD', stack.api.ops);
      assert.equal(byAction.status, 200);
      assert.deepEqual(
        byAction.body.entries.map((entry: { target_type: string; target_id: string }) => [
          entry.target_type,
          entry.target_id,
        ]),
        [
          ['fx_rate', 'GBP/USD'],
          ['fx_rate', 'GBP/USD'],
        ],
      );
    });

    it('refuse floats, exponents, signs, zero and unknown or equal currencies with a 4xx', async () => {
      for (const rate of [1.27, '1e2', '-1', '0', '0.0', '1.0000000000001', ' 1.2', null]) {
        const answer = await setRate('GBP', 'USD', rate);
        assert.equal(answer.status, 400, `${JSON.stringify(rate)}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'invalid_request');
      }
      assert.equal((await setRate('ABC', 'USD', '1')).body.error.code, 'unsupported_currency');
      assert.equal((await setRate('USD', 'USD', '1')).body.error.code, 'invalid_request');
      assert.equal((await setRate('usd', 'EUR', '1')).status, 400);
      assert.equal(
        (await stack.api.call('GET', '/v1/ops/fx/rates/CHF/USD', stack.api.ops)).body.error.code,
        'rate_unavailable',
      );
    });
  });

  describe('quotes', () => {
    it('lock a rate and amount for QUOTE_TTL, rounded down to the target minor unit', async () => {
      const alice = await funded(0, 0);
      const quote = await quoteFor(alice, { from_currency: 'USD', to_currency: 'JPY', amount: 1 });
      assert.equal(quote.status, 201, JSON.stringify(quote.body));
      assert.equal(quote.body.rate, '150.5');
      assert.equal(quote.body.source_amount, 1);
      assert.equal(quote.body.target_amount, 1); // 0.01 USD = 1.505 JPY
      assert.match(quote.body.quote_id, /^q_[0-9a-f]{32}$/);
      const ttl = Date.parse(quote.body.expires_at) - Date.now();
      assert.ok(ttl > 0 && ttl <= quote_ttl_ms + 1_000, `expires in ${ttl} ms`);
      const bhd = await quoteFor(alice, { from_currency: 'USD', to_currency: 'BHD', amount: 1 });
      assert.equal(bhd.body.target_amount, 3); // 0.01 USD = 3.76 fils
    });

    it('refuse a missing rate, a conversion that rounds to zero, and bad bodies', async () => {
      const alice = await funded(0, 0);
      assert.equal(
        (await quoteFor(alice, { from_currency: 'CHF', to_currency: 'USD', amount: 100 })).body.error.code,
        'rate_unavailable',
      );
      const tiny = await quoteFor(alice, { from_currency: 'JPY', to_currency: 'USD', amount: 1 });
      assert.equal(tiny.status, 422);
      assert.equal(tiny.body.error.code, 'amount_too_small');
      assert.equal(
        (await quoteFor(alice, { from_currency: 'JPY', to_currency: 'USD', amount: 150 })).body.target_amount,
        100,
      ); // 1.005 USD -> 1.00
      for (const body of [
        { from_currency: 'USD', to_currency: 'USD', amount: 1 },
        { from_currency: 'USD', to_currency: 'EUR', amount: 1.5 },
        { from_currency: 'USD', to_currency: 'EUR', amount: '100' },
        { from_currency: 'USD', to_currency: 'EUR' },
      ]) {
        assert.equal((await quoteFor(alice, body)).status, 400, JSON.stringify(body));
      }
      assert.equal(
        (await quoteFor(alice, { from_currency: 'USD', to_currency: 'ABC', amount: 1 })).body.error.code,
        'unsupported_currency',
      );
    });
  });

  describe('cross-currency transfers', () => {
    it('move USD out and EUR in across shards through the FX houses, at the quoted rate, shown on the transfer, legs and history', async () => {
      const alice = await funded(0, 20_000);
      const bob = await funded(1, 0);
      const quote = (await quoteFor(alice, { from_currency: 'USD', to_currency: 'EUR', amount: 10_000 })).body;
      assert.equal(quote.target_amount, 9_215);
      // The rate moves after the quote: the quote's rate still applies.
      await setRate('USD', 'EUR', '0.5');
      try {
        const sent = await convert(alice, bob, 10_000, { target_currency: 'EUR', quote_id: quote.quote_id });
        assert.equal(sent.status, 200, JSON.stringify(sent.body));
        assert.equal(sent.body.status, 'COMPLETED');
        assert.deepEqual(sent.body.conversion, {
          source_amount: 10_000,
          source_currency: 'USD',
          target_amount: 9_215,
          target_currency: 'EUR',
          rate: '0.9215',
          quote_id: quote.quote_id,
        });
        assert.equal(await stack.api.balance(alice, 'USD'), 10_000);
        assert.equal(await stack.api.balance(bob, 'EUR'), 9_215);
        assert.equal(await stack.api.balance(bob, 'USD'), 0);

        const full = (await stack.api.call('GET', `/v1/wallet/transfers/${sent.body.transfer_id}`, { as: bob })).body;
        assert.deepEqual(
          full.legs.map((leg: { leg: string; amount: number; currency: string; outcome: string }) => [
            leg.leg,
            leg.amount,
            leg.currency,
            leg.outcome,
          ]),
          [
            ['debit', 10_000, 'USD', 'posted'],
            ['credit', 9_215, 'EUR', 'posted'],
          ],
        );
        const [received] = await historyOf(bob);
        assert.equal(received.kind, 'transfer_in');
        assert.equal(received.amount, 9_215);
        assert.equal(received.currency, 'EUR');
        assert.equal(received.transfer, `/v1/wallet/transfers/${sent.body.transfer_id}`);
        assert.equal(received.workflow_id, sent.body.transfer_id);
        assert.deepEqual(received.conversion, {
          source_amount: 10_000,
          source_currency: 'USD',
          target_amount: 9_215,
          target_currency: 'EUR',
          rate: '0.9215',
        });
        const [paid] = await historyOf(alice);
        assert.deepEqual(
          [paid.kind, paid.amount, paid.currency, paid.conversion.rate],
          ['transfer_out', -10_000, 'USD', '0.9215'],
        );
        // Each shard's FX house holds its side: +USD on the sender's, -EUR on the recipient's; nothing in clearing.
        const fx = async (shard: number, currency: string) =>
          (await balanceTotals(stack.shards.pool(shard))).find((row) => row.kind === 'fx' && row.currency === currency)
            ?.totalMinor ?? 0n;
        assert.ok((await fx(0, 'USD')) >= 10_000n);
        assert.ok((await fx(1, 'EUR')) <= -9_215n);
      } finally {
        await setRate('USD', 'EUR', '0.9215');
      }
    });

    it('without a quote, fix the current rate once: a retry after the rate changed gets the same transfer', async () => {
      const alice = await funded(2, 5_000, 'EUR');
      const bob = await funded(3, 0);
      const key = uniqueName('fx-retry');
      const first = await convert(alice, bob, 1_000, { currency: 'EUR', target_currency: 'USD' }, key);
      assert.equal(first.body.status, 'COMPLETED', JSON.stringify(first.body));
      assert.equal(first.body.conversion.target_amount, 1_084); // 10.00 EUR at 1.0845 = 10.845 USD -> 10.84
      await setRate('EUR', 'USD', '2');
      try {
        const retry = await convert(alice, bob, 1_000, { currency: 'EUR', target_currency: 'USD' }, key);
        assert.equal(retry.body.transfer_id, first.body.transfer_id);
        assert.deepEqual(retry.body.conversion, first.body.conversion);
        assert.equal(await stack.api.balance(bob, 'USD'), 1_084);
        const otherTarget = await convert(alice, bob, 1_000, { currency: 'EUR', target_currency: 'JPY' }, key);
        assert.equal(otherTarget.body.error.code, 'idempotency_key_reused');
      } finally {
        await setRate('EUR', 'USD', '1.0845');
      }
    });

    it('refuse expired, foreign, used and mismatched quotes, and a missing rate, before anything is recorded', async () => {
      const alice = await funded(0, 50_000);
      const bob = await funded(1, 0);
      const mallory = await funded(2, 50_000);
      const quote = (await quoteFor(alice, { from_currency: 'USD', to_currency: 'EUR', amount: 1_000 })).body;

      const foreign = await convert(mallory, bob, 1_000, { target_currency: 'EUR', quote_id: quote.quote_id });
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.error.code, 'quote_not_found');
      const mismatch = await convert(alice, bob, 999, { target_currency: 'EUR', quote_id: quote.quote_id });
      assert.equal(mismatch.body.error.code, 'quote_mismatch');
      assert.equal(
        (await convert(alice, bob, 1_000, { target_currency: 'JPY', quote_id: quote.quote_id })).body.error.code,
        'quote_mismatch',
      );

      const used = await convert(alice, bob, 1_000, { target_currency: 'EUR', quote_id: quote.quote_id });
      assert.equal(used.body.status, 'COMPLETED');
      const again = await convert(alice, bob, 1_000, { target_currency: 'EUR', quote_id: quote.quote_id });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'quote_already_used');

      const stale = (await quoteFor(alice, { from_currency: 'USD', to_currency: 'EUR', amount: 1_000 })).body;
      await new Promise((resolve) => setTimeout(resolve, quote_ttl_ms + 500));
      const expired = await convert(alice, bob, 1_000, { target_currency: 'EUR', quote_id: stale.quote_id });
      assert.equal(expired.status, 422);
      assert.equal(expired.body.error.code, 'quote_expired');

      assert.equal((await convert(alice, bob, 1_000, { target_currency: 'CHF' })).body.error.code, 'rate_unavailable');
      assert.equal((await convert(alice, bob, 1_000, { quote_id: stale.quote_id })).status, 400);
      assert.equal((await convert(alice, bob, 1_000, { target_currency: 'USD' })).status, 400);
      assert.equal(await stack.api.balance(alice, 'USD'), 49_000);
      assert.equal(await stack.api.balance(bob, 'EUR'), 921);
      const records = await stack.shards
        .pool(0)
        .query('select count(*)::int as count from transfers where owner_user_id = $1 and kind = $2', [
          alice,
          'transfer',
        ]);
      assert.equal(records.rows[0].count, 1);
    });

    it('refund exactly the source amount when the credit is refused, the refund linking to the debit it undoes', async () => {
      const alice = await funded(0, 5_000);
      const bob = await funded(1, 0);
      assert.equal((await stack.api.call('POST', `/v1/ops/users/${bob}/freeze`, { ...ops(), body: {} })).status, 200);
      const sent = await convert(alice, bob, 333, { target_currency: 'JPY' });
      assert.equal(sent.body.status, 'FAILED');
      assert.equal(sent.body.failure_reason, 'user_frozen');
      assert.equal(sent.body.conversion.target_amount, 501); // 3.33 USD at 150.5 = 501.165 JPY
      assert.equal(await stack.api.balance(alice, 'USD'), 5_000);
      assert.equal(await stack.api.balance(bob, 'JPY'), 0);
      const [refund, debit] = await historyOf(alice);
      assert.deepEqual([refund.kind, refund.amount, refund.currency], ['refund', 333, 'USD']);
      assert.deepEqual([debit.kind, debit.amount], ['transfer_out', -333]);
      assert.equal(refund.undoes_entry_id, debit.entry_id);
      assert.equal(debit.undoes_entry_id, undefined);
      // The refused credit moved nothing on bob's shard, so it records no conversion there either;
      // the owner's record keeps the conversion it was accepted with.
      const conversionsOn = async (shard: number) =>
        (
          await stack.shards
            .pool(shard)
            .query('select count(*)::int as count from conversions where transfer_id = $1', [sent.body.transfer_id])
        ).rows[0].count;
      assert.equal(await conversionsOn(1), 0);
      assert.equal(await conversionsOn(0), 1);
    });

    it('reverse at the transfer’s own rate: the recipient gives back the target amount, the sender gets the source amount', async () => {
      const alice = await funded(2, 10_000);
      const bob = await funded(3, 0);
      const sent = await convert(alice, bob, 10_000, { target_currency: 'EUR' });
      assert.equal(sent.body.status, 'COMPLETED');
      await setRate('USD', 'EUR', '0.1'); // a later rate plays no part in the reversal
      try {
        const reversed = await stack.api.call('POST', `/v1/ops/transfers/${sent.body.transfer_id}/reverse`, {
          ...ops('ops_disputes'),
          body: { reason: 'chargeback' },
        });
        assert.equal(reversed.status, 200, JSON.stringify(reversed.body));
        assert.equal(reversed.body.status, 'REVERSED');
      } finally {
        await setRate('USD', 'EUR', '0.9215');
      }
      assert.equal(await stack.api.balance(alice, 'USD'), 10_000);
      assert.equal(await stack.api.balance(bob, 'EUR'), 0);
      const [reversalOut, transferIn] = await historyOf(bob);
      assert.deepEqual([reversalOut.kind, reversalOut.amount, reversalOut.currency], ['reversal_out', -9_215, 'EUR']);
      assert.equal(reversalOut.undoes_entry_id, transferIn.entry_id);
      const [reversalIn, transferOut] = await historyOf(alice);
      assert.deepEqual([reversalIn.kind, reversalIn.amount, reversalIn.currency], ['reversal_in', 10_000, 'USD']);
      assert.equal(reversalIn.undoes_entry_id, transferOut.entry_id);
      const legs = (await stack.api.call('GET', `/v1/wallet/transfers/${sent.body.transfer_id}`, stack.api.ops)).body
        .legs;
      assert.deepEqual(
        legs.map((leg: { leg: string; amount: number; currency: string }) => [leg.leg, leg.amount, leg.currency]),
        [
          ['debit', 10_000, 'USD'],
          ['credit', 9_215, 'EUR'],
          ['reversal_debit', 9_215, 'EUR'],
          ['reversal_credit', 10_000, 'USD'],
        ],
      );
    });

    it('convert between one user’s own currencies (a transfer to oneself needs a target currency)', async () => {
      const alice = await funded(1, 10_000);
      assert.equal((await convert(alice, alice, 100, {})).body.error.code, 'same_user');
      const converted = await convert(alice, alice, 1_000, { target_currency: 'JPY' });
      assert.equal(converted.body.status, 'COMPLETED', JSON.stringify(converted.body));
      assert.equal(await stack.api.balance(alice, 'USD'), 9_000);
      assert.equal(await stack.api.balance(alice, 'JPY'), 1_505);
    });

    it('conserve every currency on every shard under many racing conversions both ways', async () => {
      const users = await Promise.all(
        [0, 1, 2, 3, 0, 1, 2, 3].map(async (shard) => {
          const userId = await funded(shard, 100_000);
          assert.equal((await stack.api.deposit(userId, 100_000, uniqueName('dep'), 'EUR')).body.status, 'COMPLETED');
          return userId;
        }),
      );
      const racing = Array.from({ length: 64 }, (_, index) => {
        const from = users[index % users.length]!;
        const to = users[(index * 3 + 1) % users.length]!;
        const [currency, target] = index % 2 === 0 ? ['USD', 'EUR'] : ['EUR', 'USD'];
        return convert(from, to, 1_000 + index * 37, { currency, target_currency: target });
      });
      const answers = await Promise.all(racing);
      for (const answer of answers) assert.equal(answer.body.status, 'COMPLETED', JSON.stringify(answer.body));
      const sums = await currencySumsByShard(stack.shards);
      assert.deepEqual(
        sums.filter((line) => line.sum !== 0n),
        [],
      );
      assert.deepEqual(await driftedAccounts(stack.shards), []);
      // Per currency, what customers gained or lost is the FX house's position, to the unit.
      for (const currency of ['USD', 'EUR']) {
        const totals = await ledgerTotals(stack.shards, currency);
        assert.equal(totals.customer + totals.fx + totals.settlement, 0n, currency);
      }
    });
  });
});

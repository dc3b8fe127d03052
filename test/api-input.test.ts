import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../api/auth';
import { error_codes } from '../api/errors';
import { ledgerTotals } from './support/ledger';
import { startTestStack, test_auth_secret, tokenFor, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';

/** Bad input and unauthorized callers get a documented 4xx, and nothing moves. */
describe('API input and authorization', () => {
  let stack: TestStack;
  let alice: string;
  let bob: string;
  before(async () => {
    stack = await startTestStack();
    alice = uniqueName('alice');
    bob = uniqueName('bob');
    await stack.api.createUser(alice);
    await stack.api.createUser(bob);
    await stack.api.deposit(alice, 10_000);
  });
  after(async () => {
    await stack.stop();
  });

  const validTransfer = () => ({
    from_user_id: alice,
    to_user_id: bob,
    amount: 100,
    currency: 'USD',
    idempotency_key: uniqueName('k'),
  });

  function expectError(answer: { status: number; body: any }, status: number, code: string) {
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, code);
    assert.equal(typeof answer.body.error.message, 'string');
    assert.ok(code in error_codes, `${code} is documented`);
  }

  const badTransfers: [string, (body: ReturnType<typeof validTransfer>) => unknown, number, string][] = [
    ['missing amount', ({ amount: _, ...rest }) => rest, 400, 'invalid_request'],
    ['extra field', (body) => ({ ...body, admin: true }), 400, 'invalid_request'],
    ['zero amount', (body) => ({ ...body, amount: 0 }), 400, 'invalid_request'],
    ['negative amount', (body) => ({ ...body, amount: -5 }), 400, 'invalid_request'],
    ['fractional amount', (body) => ({ ...body, amount: 10.5 }), 400, 'invalid_request'],
    ['unsafe integer amount', (body) => ({ ...body, amount: 2 ** 53 + 2 }), 400, 'invalid_request'],
    ['amount as a string', (body) => ({ ...body, amount: '100' }), 400, 'invalid_request'],
    ['amount above the limit', (body) => ({ ...body, amount: 1_000_000_000_001 }), 400, 'invalid_request'],
    ['lower-case currency', (body) => ({ ...body, currency: 'usd' }), 400, 'invalid_request'],
    ['unknown currency', (body) => ({ ...body, currency: 'XYZ' }), 422, 'unsupported_currency'],
    // currency-codes lists these, but they are not money a wallet holds: only CURRENCIES are.
    ['ISO "no currency" XXX', (body) => ({ ...body, currency: 'XXX' }), 422, 'unsupported_currency'],
    ['the testing code XTS', (body) => ({ ...body, currency: 'XTS' }), 422, 'unsupported_currency'],
    ['gold (XAU)', (body) => ({ ...body, currency: 'XAU' }), 422, 'unsupported_currency'],
    ['converting into XXX', (body) => ({ ...body, target_currency: 'XXX' }), 422, 'unsupported_currency'],
    ['sending to oneself', (body) => ({ ...body, to_user_id: alice }), 422, 'same_user'],
    ['unknown recipient', (body) => ({ ...body, to_user_id: 'nobody_at_all' }), 404, 'user_not_found'],
    ['malformed user id', (body) => ({ ...body, to_user_id: 'bob; drop table' }), 400, 'invalid_request'],
    ['key of 256 characters', (body) => ({ ...body, idempotency_key: 'k'.repeat(256) }), 400, 'invalid_request'],
    ['empty key', (body) => ({ ...body, idempotency_key: '' }), 400, 'invalid_request'],
    ['note of 281 characters', (body) => ({ ...body, note: 'n'.repeat(281) }), 400, 'invalid_request'],
    ['NUL in the note', (body) => ({ ...body, note: 'a\u0000b' }), 400, 'invalid_request'],
    ['NUL in the key', (body) => ({ ...body, idempotency_key: 'k\u0000' }), 400, 'invalid_request'],
    ['an unpaired surrogate in the key', (body) => ({ ...body, idempotency_key: 'k\ud800' }), 400, 'invalid_request'],
    ['body that is an array', () => [1, 2], 400, 'invalid_request'],
    ['body that is a bare null (strict JSON accepts only objects and arrays)', () => null, 400, 'malformed_json'],
  ];

  for (const [name, mutate, status, code] of badTransfers) {
    it(`refuses a transfer with ${name}`, async () => {
      const answer = await stack.api.call('POST', '/v1/wallet/transfers?wait=5', {
        as: alice,
        body: mutate(validTransfer()),
      });
      expectError(answer, status, code);
    });
  }

  it('refuses malformed JSON, other media types and oversized bodies', async () => {
    expectError(
      await stack.api.call('POST', '/v1/wallet/transfers', { as: alice, rawBody: '{"amount": 1,' }),
      400,
      'malformed_json',
    );
    expectError(
      await stack.api.call('POST', '/v1/wallet/transfers', {
        as: alice,
        rawBody: 'amount=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'unsupported_media_type',
    );
    const huge = JSON.stringify({ ...validTransfer(), note: 'x'.repeat(100_000) });
    expectError(
      await stack.api.call('POST', '/v1/wallet/transfers', { as: alice, rawBody: huge }),
      413,
      'body_too_large',
    );
  });

  it('refuses JSON that JSON.parse would quietly read as something else', async () => {
    const raw = (text: string) => stack.api.call('POST', '/v1/wallet/transfers?wait=5', { as: alice, rawBody: text });
    const body = (amountLiteral: string) =>
      JSON.stringify({ ...validTransfer(), amount: 0 }).replace('"amount":0', `"amount":${amountLiteral}`);
    // Each of these JSON.parse reads as a valid whole amount.
    for (const literal of ['1e2', '100.0', '100.00000000000000001', '1E+2'])
      expectError(await raw(body(literal)), 400, 'invalid_request');
    expectError(await raw(body('-0').replace('"currency"', '"note":"x","currency"')), 400, 'invalid_request');
    // A key twice: JSON.parse keeps the last value, where a proxy in front of us may have read the first.
    expectError(
      await raw(body('100').replace('"currency":"USD"', '"currency":"USD","amount":5000')),
      400,
      'malformed_json',
    );
    expectError(
      await raw(
        body('100')
          .replace('"note"', '"x"')
          .replace('}', `,"pad":${'['.repeat(20)}${']'.repeat(20)}}`),
      ),
      400,
      'malformed_json',
    );
    const invalidUtf8 = Buffer.concat([
      Buffer.from(body('100').slice(0, -1) + ',"note":"'),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from('"}'),
    ]);
    const answer = await fetch(`${stack.baseUrl}/v1/wallet/transfers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor(alice)}`, 'content-type': 'application/json' },
      body: invalidUtf8,
    });
    expectError({ status: answer.status, body: await answer.json() }, 400, 'malformed_json');
    expectError(
      await stack.api.call('POST', '/v1/wallet/transfers', {
        as: alice,
        rawBody: body('100'),
        headers: { 'content-type': 'application/json; charset=latin1' },
      }),
      415,
      'unsupported_media_type',
    );
    assert.equal(await stack.api.balance(alice), 10_000, 'nothing moved');
  });

  it('accepts a key of exactly 255 characters and a note of exactly 280', async () => {
    const answer = await stack.api.call('POST', '/v1/wallet/transfers?wait=30', {
      as: alice,
      body: { ...validTransfer(), idempotency_key: 'k'.repeat(255), note: 'n'.repeat(280) },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.status, 'COMPLETED');
  });

  it('refuses bad wait, limit and cursor parameters', async () => {
    expectError(
      await stack.api.call('POST', '/v1/wallet/transfers?wait=31', { as: alice, body: validTransfer() }),
      400,
      'invalid_request',
    );
    expectError(
      await stack.api.call('POST', '/v1/wallet/transfers?wait=abc', { as: alice, body: validTransfer() }),
      400,
      'invalid_request',
    );
    expectError(
      await stack.api.call('GET', `/v1/wallet/${alice}/transactions?limit=1000`, { as: alice }),
      400,
      'invalid_request',
    );
    expectError(
      await stack.api.call('GET', `/v1/wallet/${alice}/transactions?cursor=-1`, { as: alice }),
      400,
      'invalid_request',
    );
    expectError(
      await stack.api.call('GET', `/v1/wallet/${alice}/transactions?cursor=abc`, { as: alice }),
      400,
      'invalid_request',
    );
    expectError(
      await stack.api.call('GET', `/v1/wallet/${alice}/transactions?cursor=9999999999999999999`, { as: alice }),
      400,
      'invalid_request',
    );
    expectError(
      await stack.api.call('POST', '/v1/wallet/transfers?wait=', { as: alice, body: validTransfer() }),
      400,
      'invalid_request',
    );
    expectError(
      await stack.api.call('GET', `/v1/wallet/${alice}/transactions?limit=1&limit=2`, { as: alice }),
      400,
      'invalid_request',
    );
    expectError(await stack.api.call('GET', '/v1/wallet/transfers/not-an-id', { as: alice }), 400, 'invalid_request');
    expectError(
      await stack.api.call('GET', `/v1/wallet/transfers/tr_${'0'.repeat(32)}`, { as: alice }),
      404,
      'transfer_not_found',
    );
  });

  it('requires a valid token', async () => {
    expectError(await stack.api.call('GET', `/v1/wallet/${alice}/balance`), 401, 'unauthenticated');
    expectError(
      await stack.api.call('GET', `/v1/wallet/${alice}/balance`, { headers: { authorization: 'Bearer nope' } }),
      401,
      'unauthenticated',
    );
    const forged = (await tokenFor(alice)).replace(/\.[^.]+$/, '.c2lnbmF0dXJl');
    expectError(
      await stack.api.call('GET', `/v1/wallet/${alice}/balance`, { headers: { authorization: `Bearer ${forged}` } }),
      401,
      'unauthenticated',
    );
  });

  it('stops accepting a token once it expires, although it was verified before', async () => {
    const shortLived = await signToken(test_auth_secret, { userId: alice, role: 'customer' }, '2s');
    const headers = { authorization: `Bearer ${shortLived}` };
    assert.equal((await stack.api.call('GET', `/v1/wallet/${alice}/balance`, { headers })).status, 200);
    // exp has one-second resolution: past 3 s the token is expired whatever the rounding.
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    expectError(await stack.api.call('GET', `/v1/wallet/${alice}/balance`, { headers }), 401, 'unauthenticated');
  });

  it("forbids customers from touching other users' wallets, and moves nothing", async () => {
    const before = await ledgerTotals(stack.shards, 'USD');
    const mallory = uniqueName('mallory');
    await stack.api.createUser(mallory);
    expectError(await stack.api.call('GET', `/v1/wallet/${alice}/balance`, { as: mallory }), 403, 'forbidden');
    expectError(await stack.api.call('GET', `/v1/wallet/${alice}/transactions`, { as: mallory }), 403, 'forbidden');
    expectError(
      await stack.api.call('POST', '/v1/wallet/transfers', { as: mallory, body: validTransfer() }),
      403,
      'forbidden',
    );
    expectError(
      await stack.api.call('POST', `/v1/wallet/${alice}/withdrawals`, {
        as: mallory,
        body: { amount: 1, currency: 'USD', idempotency_key: 'x' },
      }),
      403,
      'forbidden',
    );
    expectError(
      await stack.api.call('POST', `/v1/wallet/${mallory}/deposits`, {
        as: mallory,
        body: { amount: 1, currency: 'USD', idempotency_key: 'x' },
      }),
      403,
      'forbidden',
    );
    expectError(await stack.api.call('POST', `/v1/ops/users/${alice}/freeze`, { as: mallory }), 403, 'forbidden');
    expectError(
      await stack.api.call('POST', '/v1/wallet/users', { as: mallory, body: { user_id: uniqueName('other') } }),
      403,
      'forbidden',
    );
    const sent = await stack.api.transfer(alice, bob, 100);
    expectError(
      await stack.api.call('GET', `/v1/wallet/transfers/${sent.body.transfer_id}`, { as: mallory }),
      404,
      'transfer_not_found',
    );
    // Only the 255/280 boundary transfer and the one above moved money from alice.
    assert.equal(await stack.api.balance(alice), 10_000 - 100 - 100);
    const after = await ledgerTotals(stack.shards, 'USD');
    assert.equal(after.customer, before.customer);
  });

  it('lets a customer create its own user once', async () => {
    const carol = uniqueName('carol');
    const created = await stack.api.call('POST', '/v1/wallet/users', { as: carol, body: { user_id: carol } });
    assert.equal(created.status, 201);
    assert.equal(created.body.user_id, carol);
    assert.equal(typeof created.body.shard, 'number');
    expectError(
      await stack.api.call('POST', '/v1/wallet/users', { as: carol, body: { user_id: carol } }),
      409,
      'user_exists',
    );
    expectError(await stack.api.call('GET', '/v1/wallet/nobody_at_all/balance', stack.api.ops), 404, 'user_not_found');
  });

  it('answers unknown routes with 404 route_not_found', async () => {
    expectError(await stack.api.call('GET', '/v2/nothing', { as: alice }), 404, 'route_not_found');
  });

  it('serves health, readiness, metrics and an OpenAPI document built from the schemas', async () => {
    assert.equal((await stack.api.call('GET', '/healthz')).status, 200);
    const ready = await stack.api.call('GET', '/readyz');
    assert.deepEqual(ready.body, { status: 'ready', checks: { shards: 'ok', temporal: 'ok' } });
    const metrics = await stack.api.call('GET', '/metrics');
    assert.match(metrics.body, /wallet_http_request_duration_seconds_bucket/);
    assert.match(metrics.body, /wallet_transfers_submitted_total\{kind="transfer",replayed="false"\}/);
    const openapi = await stack.api.call('GET', '/openapi.json');
    assert.equal(openapi.body.openapi, '3.1.0');
    const transferSchema = openapi.body.components.schemas.TransferRequest;
    assert.deepEqual(transferSchema.required.sort(), [
      'amount',
      'currency',
      'from_user_id',
      'idempotency_key',
      'to_user_id',
    ]);
    assert.equal(transferSchema.additionalProperties, false);
    assert.equal(transferSchema.properties.note.maxLength, 280);
    assert.ok(openapi.body.paths['/v1/wallet/transfers'].post);
  });
});

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { usableBankAccount } from '../ledger/bank-accounts';
import { holdPayout } from '../ledger/payout-holds';
import { userOnShard } from './support/ledger';
import { startTestStack, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';

/** Bank accounts and the balance's new fields, through the API on the real stack. */
describe('bank accounts', () => {
  let stack: TestStack;
  const log = new PassThrough();
  const logged: string[] = [];
  const account_number = '000123456789';
  const body = { routing_number: '011000015', account_number, holder_name: 'Alice Example', account_type: 'checking' };

  before(async () => {
    log.on('data', (chunk: Buffer) => logged.push(chunk.toString()));
    stack = await startTestStack({ logStream: log, logLevel: 'info' });
  });
  after(async () => {
    await stack.stop();
  });

  async function user(shard = 0): Promise<string> {
    const userId = userOnShard(stack.shards, shard, 'ba');
    assert.equal((await stack.api.createUser(userId)).status, 201);
    return userId;
  }
  const path = (userId: string) => `/v1/wallet/${userId}/bank-accounts`;
  const rowsOf = async (userId: string) =>
    (
      await stack.shards
        .pool(stack.shards.shardOf(userId))
        .query<{ count: number }>('select count(*)::int as count from bank_accounts where user_id = $1', [userId])
    ).rows[0]!.count;

  it('registers an account once, lists it masked, and removes it from use', async () => {
    const alice = await user();
    const created = await stack.api.call('POST', path(alice), { as: alice, body });
    assert.equal(created.status, 201);
    const id = created.body.bank_account_id;
    assert.match(id, /^ba_[0-9a-f]{32}$/);
    assert.deepEqual(
      { ...created.body, bank_account_id: undefined, created_at: undefined },
      {
        bank_account_id: undefined,
        user_id: alice,
        rail: 'ach',
        currency: 'USD',
        holder_name: 'Alice Example',
        ach: { routing_number: '011000015', account_type: 'checking', account_number_last4: '6789' },
        created_at: undefined,
        deleted_at: null,
      },
    );
    // The same account again answers the live registration, unchanged.
    const again = await stack.api.call('POST', path(alice), {
      as: alice,
      body: { ...body, holder_name: 'A. Example' },
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.bank_account_id, id);
    assert.equal(again.body.holder_name, 'Alice Example');

    const listed = await stack.api.call('GET', path(alice), { as: alice });
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.bank_accounts.map((account: { bank_account_id: string }) => account.bank_account_id),
      [id],
    );
    for (const answer of [created, again, listed]) assert.ok(!JSON.stringify(answer.body).includes(account_number));

    // The rail (and only the rail) reads the whole number, while the account is live.
    const pool = stack.shards.pool(stack.shards.shardOf(alice));
    assert.equal((await usableBankAccount(pool, alice, id))?.details.ach.accountNumber, account_number);

    const removed = await stack.api.call('DELETE', `${path(alice)}/${id}`, { as: alice });
    assert.equal(removed.status, 200);
    assert.ok(removed.body.deleted_at);
    assert.equal(await usableBankAccount(pool, alice, id), undefined);
    assert.deepEqual((await stack.api.call('GET', path(alice), { as: alice })).body.bank_accounts, []);
    assert.equal((await stack.api.call('DELETE', `${path(alice)}/${id}`, { as: alice })).status, 200);
    // The row stays, for the payouts that went to it; registering it again makes a new one.
    assert.equal(await rowsOf(alice), 1);
    const renewed = await stack.api.call('POST', path(alice), { as: alice, body });
    assert.equal(renewed.status, 201);
    assert.notEqual(renewed.body.bank_account_id, id);

    assert.ok(logged.join('').includes(path(alice)), 'the requests were logged');
    assert.ok(!logged.join('').includes(account_number), 'the account number reached a log line');
  });

  it('refuses a bad routing number or account number with its code, and stores nothing', async () => {
    const alice = await user(1);
    const refusals: [object, number, string][] = [
      [{ routing_number: '011000016' }, 422, 'invalid_routing_number'],
      [{ routing_number: '01100001' }, 422, 'invalid_routing_number'],
      [{ routing_number: '000000000' }, 422, 'invalid_routing_number'],
      [{ account_number: '123' }, 422, 'invalid_account_number'],
      [{ account_number: '123456789012345678' }, 422, 'invalid_account_number'],
      [{ account_number: '12345-678' }, 422, 'invalid_account_number'],
      [{ holder_name: ' ' }, 400, 'invalid_request'],
      [{ holder_name: 'x'.repeat(101) }, 400, 'invalid_request'],
      [{ account_type: 'brokerage' }, 400, 'invalid_request'],
    ];
    for (const [change, status, code] of refusals) {
      const answer = await stack.api.call('POST', path(alice), { as: alice, body: { ...body, ...change } });
      assert.equal(answer.status, status, JSON.stringify(change));
      assert.equal(answer.body.error.code, code, JSON.stringify(change));
      assert.ok(!JSON.stringify(answer.body).includes(account_number));
    }
    assert.equal(await rowsOf(alice), 0);
  });

  it("refuses another customer's wallet, an unknown account and an unknown user", async () => {
    const alice = await user();
    const mallory = await user();
    const id = (await stack.api.call('POST', path(alice), { as: alice, body })).body.bank_account_id;
    assert.equal((await stack.api.call('POST', path(alice), { as: mallory, body })).body.error.code, 'forbidden');
    assert.equal((await stack.api.call('GET', path(alice), { as: mallory })).status, 403);
    assert.equal((await stack.api.call('DELETE', `${path(alice)}/${id}`, { as: mallory })).status, 403);
    // Her own path does not reach Alice's account.
    const foreign = await stack.api.call('DELETE', `${path(mallory)}/${id}`, { as: mallory });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.code, 'bank_account_not_found');
    const unknown = await stack.api.call('DELETE', `${path(alice)}/ba_${'0'.repeat(32)}`, { as: alice });
    assert.equal(unknown.body.error.code, 'bank_account_not_found');
    const nobody = uniqueName('nobody');
    assert.equal(
      (await stack.api.call('POST', path(nobody), { ...stack.api.ops, body })).body.error.code,
      'user_not_found',
    );
  });

  it("audits an operator's registration and removal with the masked account", async () => {
    const alice = await user();
    const created = await stack.api.call('POST', path(alice), { ...stack.api.ops, body });
    assert.equal(created.status, 201);
    const id = created.body.bank_account_id;
    assert.equal((await stack.api.call('DELETE', `${path(alice)}/${id}`, stack.api.ops)).status, 200);
    const audit = await stack.api.call('GET', `/v1/ops/audit?target=${id}`, stack.api.ops);
    assert.deepEqual(
      audit.body.entries.map((entry: { action: string; operator: string; details: object }) => [
        entry.action,
        entry.operator,
        entry.details,
      ]),
      [
        ['bank_account_remove', 'ops_console', { user_id: alice, rail: 'ach', last4: '6789' }],
        ['bank_account_add', 'ops_console', { user_id: alice, rail: 'ach', last4: '6789' }],
      ],
    );
    assert.ok(!JSON.stringify(audit.body).includes(account_number));
  });

  it('answers available, pending_out and pending_in beside the ledger balance', async () => {
    const alice = await user();
    assert.equal((await stack.api.deposit(alice, 5_000)).body.status, 'COMPLETED');
    const held = await holdPayout(stack.shards.pool(stack.shards.shardOf(alice)), {
      payoutId: uniqueName('po'),
      userId: alice,
      currency: 'USD',
      amountMinor: 1_200n,
      dailyOutgoingMaxMinor: null,
      workflowId: 'payout-test',
      runId: 'run-1',
    });
    assert.equal(held.outcome, 'posted');
    const balance = await stack.api.call('GET', `/v1/wallet/${alice}/balance`, { as: alice });
    assert.deepEqual(balance.body.balances, [
      { currency: 'USD', amount: 3_800, available: 3_800, pending_out: 1_200, pending_in: 0 },
    ]);
    const history = await stack.api.call('GET', `/v1/wallet/${alice}/transactions?limit=1`, { as: alice });
    assert.equal(history.body.entries[0].kind, 'payout_hold');
    assert.match(history.body.entries[0].transfer, /^\/v1\/wallet\/payouts\/po/);
    // With ?at= only the ledger balance as it stood.
    const at = await stack.api.call('GET', `/v1/wallet/${alice}/balance?at=${new Date().toISOString()}`, { as: alice });
    assert.deepEqual(at.body.balances, [{ currency: 'USD', amount: 3_800 }]);
  });
});

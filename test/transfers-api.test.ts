import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { driftedAccounts, ledgerTotals, postingsOf, userOnShard } from './support/ledger';
import { startTestStack, tokenFor, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';

/** End to end through HTTP: API -> Temporal workflow -> worker activities -> PostgreSQL shards. */
describe('transfers through the API', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(stack.shards), []);
    await stack.stop();
  });

  async function funded(shard: number, amount: number): Promise<string> {
    const userId = userOnShard(stack.shards, shard, 'user');
    assert.equal((await stack.api.createUser(userId)).status, 201);
    if (amount > 0) {
      const deposit = await stack.api.deposit(userId, amount);
      assert.equal(deposit.body.status, 'COMPLETED', JSON.stringify(deposit.body));
    }
    return userId;
  }

  it('moves money between two users and shows it in balances and history', async () => {
    const alice = await funded(0, 10_000);
    const bob = await funded(1, 0);
    const sent = await stack.api.transfer(alice, bob, 2_500, uniqueName('k'), 30, { note: 'lunch' });
    assert.equal(sent.status, 200);
    assert.equal(sent.body.status, 'COMPLETED');
    assert.equal(sent.body.amount, 2_500);
    assert.equal(sent.body.note, 'lunch');
    assert.ok(sent.body.completed_at);
    assert.equal(await stack.api.balance(alice), 7_500);
    assert.equal(await stack.api.balance(bob), 2_500);

    const history = await stack.api.call('GET', `/v1/wallet/${alice}/transactions?limit=1`, { as: alice });
    assert.equal(history.status, 200);
    assert.equal(history.body.entries.length, 1);
    assert.deepEqual(
      {
        kind: history.body.entries[0].kind,
        amount: history.body.entries[0].amount,
        balance_after: history.body.entries[0].balance_after,
      },
      { kind: 'transfer_out', amount: -2_500, balance_after: 7_500 },
    );
    const next = await stack.api.call(
      'GET',
      `/v1/wallet/${alice}/transactions?limit=5&cursor=${history.body.next_cursor}`,
      { as: alice },
    );
    assert.deepEqual(
      next.body.entries.map((entry: { kind: string }) => entry.kind),
      ['deposit'],
    );
    assert.equal(next.body.next_cursor, null);

    const read = await stack.api.call('GET', `/v1/wallet/transfers/${sent.body.transfer_id}`, { as: bob });
    assert.equal(read.status, 200);
    assert.equal(read.body.status, 'COMPLETED');
  });

  it('runs a transfer as one eagerly started workflow task with its legs as local activities', async () => {
    const alice = await funded(0, 1_000);
    const bob = await funded(3, 0);
    const sent = await stack.api.transfer(alice, bob, 100);
    assert.equal(sent.body.status, 'COMPLETED');
    // The API answers COMPLETED when the ledger commits; the workflow closes just after.
    const handle = stack.client.workflow.getHandle(sent.body.transfer_id);
    assert.deepEqual(await handle.result(), { status: 'COMPLETED', failureReason: null });
    const events = (await handle.fetchHistory()).events ?? [];
    const count = (key: string) => events.filter((event) => (event as Record<string, unknown>)[key] != null).length;
    assert.equal(count('workflowTaskCompletedEventAttributes'), 1);
    assert.equal(count('activityTaskScheduledEventAttributes'), 0);
    assert.equal(count('markerRecordedEventAttributes'), 2);
    const metrics = await stack.api.call('GET', '/metrics');
    assert.match(String(metrics.body), /wallet_transfer_workflow_starts_total\{outcome="eager"\} [1-9]/);
  });

  it('waits for a transfer on GET with ?wait', async () => {
    const alice = await funded(1, 1_000);
    const bob = await funded(2, 0);
    const accepted = await stack.api.transfer(alice, bob, 100, uniqueName('k'), 0);
    assert.equal(accepted.status, 202);
    const read = await stack.api.call('GET', `/v1/wallet/transfers/${accepted.body.transfer_id}?wait=10`, {
      as: alice,
    });
    assert.equal(read.status, 200);
    assert.equal(read.body.status, 'COMPLETED');
    assert.deepEqual(
      read.body.legs.map((leg: { leg: string }) => leg.leg),
      ['debit', 'credit'],
    );
  });

  it('answers 202 PENDING without wait, and the transfer completes', async () => {
    const alice = await funded(2, 1_000);
    const bob = await funded(2, 0);
    const accepted = await stack.api.transfer(alice, bob, 100, uniqueName('k'), 0);
    assert.equal(accepted.status, 202);
    assert.deepEqual(Object.keys(accepted.body).sort(), ['created_at', 'status', 'transfer_id']);
    const outcome = await stack.client.workflow.getHandle(accepted.body.transfer_id).result();
    assert.equal(outcome.status, 'COMPLETED');
    assert.equal(await stack.api.balance(bob), 100);
  });

  it('never overdraws: 40 concurrent transfers of 100 from 1000, exactly 10 complete', async () => {
    const alice = await funded(0, 1_000);
    const bob = await funded(3, 0);
    const answers = await Promise.all(Array.from({ length: 40 }, () => stack.api.transfer(alice, bob, 100)));
    const statuses = answers.map((answer) => answer.body.status);
    assert.equal(statuses.filter((status) => status === 'COMPLETED').length, 10);
    assert.equal(statuses.filter((status) => status === 'FAILED').length, 30);
    assert.ok(
      answers
        .filter((answer) => answer.body.status === 'FAILED')
        .every((answer) => answer.body.failure_reason === 'insufficient_funds'),
    );
    assert.equal(await stack.api.balance(alice), 0);
    assert.equal(await stack.api.balance(bob), 1_000);
  });

  it('returns the same transfer for a retried request and moves money once, even when 20 race', async () => {
    const alice = await funded(1, 1_000);
    const bob = await funded(2, 0);
    const key = uniqueName('retry');
    const answers = await Promise.all(Array.from({ length: 20 }, () => stack.api.transfer(alice, bob, 300, key)));
    assert.ok(
      answers.every((answer) => answer.status === 200 && answer.body.status === 'COMPLETED'),
      JSON.stringify(answers.map((a) => a.body)),
    );
    assert.equal(new Set(answers.map((answer) => answer.body.transfer_id)).size, 1);
    const later = await stack.api.transfer(alice, bob, 300, key);
    assert.equal(later.body.transfer_id, answers[0]!.body.transfer_id);
    assert.equal(await stack.api.balance(alice), 700);
    assert.equal(await stack.api.balance(bob), 300);
    assert.deepEqual(
      (await postingsOf(stack.shards, later.body.transfer_id)).map((posting) => `${posting.leg}:${posting.entries}`),
      ['credit:2', 'debit:2'],
    );
  });

  it('refuses the same key with a different body (422) and moves nothing', async () => {
    const alice = await funded(0, 1_000);
    const bob = await funded(1, 0);
    const key = uniqueName('reuse');
    assert.equal((await stack.api.transfer(alice, bob, 100, key)).body.status, 'COMPLETED');
    const reused = await stack.api.transfer(alice, bob, 200, key);
    assert.equal(reused.status, 422);
    assert.equal(reused.body.error.code, 'idempotency_key_reused');
    assert.equal(await stack.api.balance(alice), 900);
  });

  it('still deduplicates after Temporal has forgotten the workflow (retention)', async () => {
    const alice = await funded(3, 1_000);
    const bob = await funded(0, 0);
    const key = uniqueName('old');
    const first = await stack.api.transfer(alice, bob, 100, key);
    assert.equal(first.body.status, 'COMPLETED');
    // What retention does, done now: the workflow's history is deleted from Temporal.
    await stack.client.workflowService.deleteWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: first.body.transfer_id },
    });
    await waitForDeletion(first.body.transfer_id);
    const again = await stack.api.transfer(alice, bob, 100, key);
    assert.deepEqual(again.body, first.body);
    assert.equal((await stack.api.transfer(alice, bob, 999, key)).status, 422);
    assert.equal(await stack.api.balance(alice), 900);
    await assert.rejects(stack.client.workflow.getHandle(first.body.transfer_id).describe(), {
      name: 'WorkflowNotFoundError',
    });
  });

  async function waitForDeletion(workflowId: string): Promise<void> {
    for (let attempt = 0; attempt < 600; attempt++) {
      const gone = await stack.client.workflow
        .getHandle(workflowId)
        .describe()
        .then(
          () => false,
          () => true,
        );
      if (gone) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`workflow ${workflowId} was not deleted`);
  }

  it('conserves money across shards, with clearing back at zero when nothing is in flight', async () => {
    const users = [await funded(0, 5_000), await funded(1, 5_000), await funded(2, 5_000), await funded(3, 5_000)];
    const moves = [];
    for (let round = 0; round < 3; round++) {
      for (const [index, from] of users.entries()) {
        const to = users[(index + 1 + round) % users.length]!;
        moves.push(stack.api.transfer(from, to, 100 * (round + 1)));
      }
    }
    const answers = await Promise.all(moves);
    assert.ok(answers.every((answer) => answer.body.status === 'COMPLETED'));
    const totals = await ledgerTotals(stack.shards, 'USD');
    assert.equal(totals.clearing, 0n, 'clearing accounts sum to zero when nothing is in flight');
    assert.equal(totals.customer + totals.clearing + totals.settlement, 0n, 'every cent is accounted for');
    const balances = await Promise.all(users.map((user) => stack.api.balance(user)));
    assert.equal(
      balances.reduce((sum, balance) => sum + balance, 0),
      20_000,
    );
  });

  it('compensates a credit refused after the debit (frozen recipient)', async () => {
    const alice = await funded(0, 1_000);
    const bob = await funded(3, 0);
    const frozen = await stack.api.call('POST', `/v1/ops/users/${bob}/freeze`, stack.api.ops);
    assert.equal(frozen.status, 200);
    const sent = await stack.api.transfer(alice, bob, 400);
    assert.equal(sent.body.status, 'FAILED');
    assert.equal(sent.body.failure_reason, 'user_frozen');
    assert.equal(await stack.api.balance(alice), 1_000);
    assert.equal(await stack.api.balance(bob), 0);
    assert.deepEqual(
      (await postingsOf(stack.shards, sent.body.transfer_id)).map((posting) => `${posting.leg}:${posting.outcome}`),
      ['credit:refused', 'debit:posted', 'refund:posted'],
    );
    const read = await stack.api.call('GET', `/v1/wallet/transfers/${sent.body.transfer_id}`, { as: alice });
    assert.deepEqual(
      read.body.legs.map((leg: { leg: string; outcome: string; reason?: string }) => [
        leg.leg,
        leg.outcome,
        leg.reason ?? null,
      ]),
      [
        ['debit', 'posted', null],
        ['credit', 'refused', 'user_frozen'],
        ['refund', 'posted', null],
      ],
    );
    const history = await stack.api.call('GET', `/v1/wallet/${alice}/transactions`, { as: alice });
    assert.deepEqual(
      history.body.entries
        .slice(0, 2)
        .map((entry: { kind: string; amount: number }) => `${entry.kind}:${entry.amount}`),
      ['refund:400', 'transfer_out:-400'],
    );
    await stack.api.call('POST', `/v1/ops/users/${bob}/unfreeze`, stack.api.ops);
    assert.equal((await stack.api.transfer(alice, bob, 400)).body.status, 'COMPLETED');
  });

  it('refuses a frozen sender without moving money', async () => {
    const alice = await funded(1, 1_000);
    const bob = await funded(2, 0);
    await stack.api.call('POST', `/v1/ops/users/${alice}/freeze`, stack.api.ops);
    const sent = await stack.api.transfer(alice, bob, 100);
    assert.deepEqual([sent.body.status, sent.body.failure_reason], ['FAILED', 'user_frozen']);
    assert.equal(await stack.api.balance(alice), 1_000);
  });

  it('withdraws to the settlement account, refusing overdrafts', async () => {
    const alice = await funded(2, 1_000);
    const withdraw = (amount: number) =>
      stack.api.call('POST', `/v1/wallet/${alice}/withdrawals?wait=30`, {
        as: alice,
        body: { amount, currency: 'USD', idempotency_key: uniqueName('w') },
      });
    assert.equal((await withdraw(600)).body.status, 'COMPLETED');
    const refused = await withdraw(600);
    assert.deepEqual([refused.body.status, refused.body.failure_reason], ['FAILED', 'insufficient_funds']);
    assert.equal(await stack.api.balance(alice), 400);
  });

  it('keeps a balance per currency', async () => {
    const alice = await funded(3, 0);
    assert.equal((await stack.api.deposit(alice, 500, uniqueName('d'), 'EUR')).body.status, 'COMPLETED');
    assert.equal((await stack.api.deposit(alice, 700, uniqueName('d'), 'JPY')).body.status, 'COMPLETED');
    const balance = await stack.api.call('GET', `/v1/wallet/${alice}/balance`, { as: alice });
    assert.deepEqual(balance.body, {
      user_id: alice,
      balances: [
        { currency: 'EUR', amount: 500, available: 500, pending_out: 0, pending_in: 0 },
        { currency: 'JPY', amount: 700, available: 700, pending_out: 0, pending_in: 0 },
      ],
    });
  });

  it('labels each workflow for the Temporal Web UI', async () => {
    const alice = await funded(0, 5_000);
    const bob = await funded(1, 0);
    const sent = await stack.api.transfer(alice, bob, 5_000);
    const handle = stack.client.workflow.getHandle(sent.body.transfer_id);
    await handle.result();
    const description = await handle.describe();
    const attribute = (name: string) =>
      description.typedSearchAttributes.getAll().find((pair) => pair.key.name === name)?.value;
    assert.equal(attribute('TransferStatus'), 'COMPLETED');
    assert.equal(attribute('FromUser'), alice);
    assert.equal(attribute('ToUser'), bob);
    assert.equal(attribute('AmountMinor'), 5_000);
    assert.equal(attribute('Currency'), 'USD');
    assert.equal(await description.staticSummary(), `${alice} -> ${bob} 50.00 USD`);
  });
});

/** Past its ceiling the wallet process refuses new transfers at once instead of collapsing. */
describe('load shedding', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({ admission: { targetMs: 120_000, ceiling: 1 } });
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(stack.shards), []);
    await stack.stop();
  });

  it('answers 503 overloaded with Retry-After while full, records nothing, and accepts again once a transfer finishes', async () => {
    const alice = userOnShard(stack.shards, 0, 'alice');
    const bob = userOnShard(stack.shards, 1, 'bob');
    await stack.api.createUser(alice);
    await stack.api.createUser(bob);
    assert.equal((await stack.api.deposit(alice, 1_000)).body.status, 'COMPLETED');

    // Hold bob's user row so the first transfer's credit waits: it stays in flight.
    const blocker = await stack.shards.pool(1).connect();
    await blocker.query('begin');
    await blocker.query('select 1 from users where user_id = $1 for update', [bob]);
    let first;
    try {
      first = await stack.api.transfer(alice, bob, 100, uniqueName('k'), 0);
      assert.equal(first.status, 202);
      const refusedKey = uniqueName('k');
      const refused = await stack.api.transfer(alice, bob, 100, refusedKey, 0);
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'overloaded');
      const raw = await fetch(`${stack.baseUrl}/v1/wallet/transfers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await tokenFor(alice)}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          from_user_id: alice,
          to_user_id: bob,
          amount: 100,
          currency: 'USD',
          idempotency_key: refusedKey,
        }),
      });
      assert.equal(raw.headers.get('retry-after'), '1');
      const recorded = await stack.shards
        .pool(0)
        .query('select 1 from transfers where idempotency_key = $1', [refusedKey]);
      assert.equal(recorded.rowCount, 0);
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }
    const done = await stack.api.call('GET', `/v1/wallet/transfers/${first.body.transfer_id}?wait=10`, { as: alice });
    assert.equal(done.body.status, 'COMPLETED');
    assert.equal((await stack.api.transfer(alice, bob, 100)).body.status, 'COMPLETED');
    assert.equal(await stack.api.balance(alice), 800);
  });
});

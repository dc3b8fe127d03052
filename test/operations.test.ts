import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { driftedAccounts, ledgerTotals, userOnShard } from './support/ledger';
import { actionTokenFor, startTestStack, test_limits, test_timings, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';

/** Operators' actions end to end: HTTP (updates) and signals (as the Web UI and the CLI send them) against the real stack. */
describe('operations', () => {
  let stack: TestStack;
  const ops = (operator = 'ops_console') => ({ as: operator, role: 'ops' as const });
  before(async () => {
    stack = await startTestStack({
      timings: { ...test_timings, reversalWindowMs: 120_000, reviewTimeoutMs: 120_000 },
      limits: { ...test_limits, reviewThresholdMinor: 10_000n, fourEyesThresholdMinor: 50_000n },
    });
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(stack.shards), []);
    await stack.stop();
  });

  async function funded(shard: number, amount: number): Promise<string> {
    const userId = userOnShard(stack.shards, shard, 'op');
    assert.equal((await stack.api.createUser(userId)).status, 201);
    if (amount > 0) assert.equal((await stack.api.deposit(userId, amount)).body.status, 'COMPLETED');
    return userId;
  }
  const transferOf = async (transferId: string) =>
    (await stack.api.call('GET', `/v1/wallet/transfers/${transferId}`, stack.api.ops)).body;

  describe('reversal', () => {
    it('reverses a completed cross-shard transfer over HTTP, once, with new entries and an audit row', async () => {
      const before = await ledgerTotals(stack.shards, 'USD');
      const alice = await funded(0, 5_000);
      const bob = await funded(1, 0);
      const sent = await stack.api.transfer(alice, bob, 1_200);
      assert.equal(sent.body.status, 'COMPLETED');
      const id = sent.body.transfer_id;

      const reversed = await stack.api.call('POST', `/v1/ops/transfers/${id}/reverse`, {
        ...ops('ops_alice'),
        body: { reason: 'customer dispute' },
      });
      assert.equal(reversed.status, 200, JSON.stringify(reversed.body));
      assert.equal(reversed.body.status, 'REVERSED');
      assert.deepEqual(
        { ...reversed.body.reversal, reversed_at: undefined },
        { reversed_by: 'ops_alice', reason: 'customer dispute', allow_negative: false, reversed_at: undefined },
      );
      assert.equal(await stack.api.balance(alice), 5_000);
      assert.equal(await stack.api.balance(bob), 0);

      const again = await stack.api.call('POST', `/v1/ops/transfers/${id}/reverse`, {
        ...ops('ops_bob'),
        body: { reason: 'again' },
      });
      assert.equal(again.status, 200);
      assert.equal(again.body.reversal.reversed_by, 'ops_alice');
      assert.equal(await stack.api.balance(alice), 5_000);

      const legs = (await transferOf(id)).legs.map(
        (leg: { leg: string; outcome: string }) => `${leg.leg}:${leg.outcome}`,
      );
      assert.deepEqual(legs, ['debit:posted', 'credit:posted', 'reversal_debit:posted', 'reversal_credit:posted']);
      const history = await stack.api.call('GET', `/v1/wallet/${bob}/transactions`, stack.api.ops);
      assert.deepEqual(
        history.body.entries.map((entry: { kind: string; amount: number }) => [entry.kind, entry.amount]),
        [
          ['reversal_out', -1_200],
          ['transfer_in', 1_200],
        ],
      );
      const totals = await ledgerTotals(stack.shards, 'USD');
      assert.equal(totals.clearing, before.clearing);

      const audit = await stack.api.call('GET', `/v1/ops/audit?target=${id}`, stack.api.ops);
      assert.deepEqual(
        audit.body.entries.map((entry: { action: string; operator: string; via: string }) => [
          entry.action,
          entry.operator,
          entry.via,
        ]),
        [['reverse', 'ops_alice', 'update']],
      );
      const status = await stack.client.workflow.getHandle(id).query('status');
      assert.equal((status as { status: string }).status, 'REVERSED');
    });

    it('refuses a reversal the recipient cannot cover, then forces it with allow_negative', async () => {
      const alice = await funded(2, 3_000);
      const bob = await funded(3, 0);
      const carol = await funded(0, 0);
      const sent = await stack.api.transfer(alice, bob, 2_000);
      assert.equal((await stack.api.transfer(bob, carol, 1_500)).body.status, 'COMPLETED');
      const id = sent.body.transfer_id;

      const refused = await stack.api.call('POST', `/v1/ops/transfers/${id}/reverse`, {
        ...ops(),
        body: { reason: 'fraud' },
      });
      assert.equal(refused.status, 422);
      assert.equal(refused.body.error.code, 'reversal_refused');
      assert.deepEqual(refused.body.error.details, { refusal: 'insufficient_funds' });
      assert.equal(await stack.api.balance(bob), 500);
      const reported = await transferOf(id);
      assert.equal(reported.status, 'COMPLETED');
      assert.equal(reported.reversal_refused_reason, 'insufficient_funds');

      const forced = await stack.api.call('POST', `/v1/ops/transfers/${id}/reverse`, {
        ...ops(),
        body: { reason: 'fraud, confirmed', allow_negative: true },
      });
      assert.equal(forced.status, 200, JSON.stringify(forced.body));
      assert.equal(forced.body.reversal.allow_negative, true);
      assert.equal(await stack.api.balance(bob), -1_500);
      assert.equal(await stack.api.balance(alice), 3_000);
      // A wallet below its floor by an override spends nothing until it is back above it.
      const spend = await stack.api.transfer(bob, carol, 1);
      assert.deepEqual([spend.body.status, spend.body.failure_reason], ['FAILED', 'insufficient_funds']);
      const actions = (await stack.api.call('GET', `/v1/ops/audit?target=${id}`, stack.api.ops)).body.entries.map(
        (entry: { action: string }) => entry.action,
      );
      assert.deepEqual(actions, ['reverse', 'reverse_refused']);
    });

    it('reverses from a signal, as the Web UI and the CLI send it', async () => {
      const alice = await funded(1, 1_000);
      const bob = await funded(1, 0);
      const id = (await stack.api.transfer(alice, bob, 400)).body.transfer_id;
      const handle = stack.client.workflow.getHandle(id);
      const token = () => actionTokenFor({ operator: 'ops_ui', action: 'reverse', transferId: id });
      await handle.signal('reverse', { token: await token(), reason: '' }); // ignored: no reason
      await handle.signal('reverse', { token: await token(), reason: 'sent to the wrong person' });
      await waitFor(async () => (await transferOf(id)).status === 'REVERSED');
      assert.equal((await transferOf(id)).reversal.reversed_by, 'ops_ui');
      assert.equal(await stack.api.balance(alice), 1_000);
      const state = (await handle.query('status')) as { ignoredSignals: { name: string }[] };
      assert.deepEqual(
        state.ignoredSignals.map((ignored) => ignored.name),
        ['reverse'],
      );
      const audit = (await stack.api.call('GET', `/v1/ops/audit?target=${id}`, stack.api.ops)).body.entries;
      assert.deepEqual(
        audit.map((entry: { action: string; via: string }) => `${entry.action}:${entry.via}`),
        ['reverse:signal', 'refused:signal'],
      );
    });

    it('refuses to reverse what is not completed, and nobody but ops may reverse', async () => {
      const alice = await funded(0, 100);
      const bob = await funded(2, 0);
      const failed = await stack.api.transfer(alice, bob, 500);
      assert.equal(failed.body.status, 'FAILED');
      const answer = await stack.api.call('POST', `/v1/ops/transfers/${failed.body.transfer_id}/reverse`, {
        ...ops(),
        body: { reason: 'x' },
      });
      assert.equal(answer.status, 409);
      assert.equal(answer.body.error.code, 'transfer_not_reversible');
      const sent = await stack.api.transfer(alice, bob, 50);
      const customer = await stack.api.call('POST', `/v1/ops/transfers/${sent.body.transfer_id}/reverse`, {
        as: alice,
        body: { reason: 'mine' },
      });
      assert.equal(customer.status, 403);
      const noReason = await stack.api.call('POST', `/v1/ops/transfers/${sent.body.transfer_id}/reverse`, {
        ...ops(),
        body: {},
      });
      assert.equal(noReason.status, 400);
    });
  });

  describe('review holds', () => {
    it('holds a transfer at the threshold until an operator approves it', async () => {
      const alice = await funded(0, 40_000);
      const bob = await funded(3, 0);
      const held = await stack.api.transfer(alice, bob, 10_000, uniqueName('k'), 1);
      assert.equal(held.body.status, 'PENDING_REVIEW');
      assert.equal(await stack.api.balance(alice), 40_000);
      const approved = await stack.api.call('POST', `/v1/ops/transfers/${held.body.transfer_id}/approve`, {
        ...ops('ops_alice'),
        body: { reason: 'known customer' },
      });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(approved.body.status, 'COMPLETED');
      assert.deepEqual(approved.body.review, { approvals: 1, approvals_required: 1 });
      assert.equal(await stack.api.balance(bob), 10_000);
      const below = await stack.api.transfer(alice, bob, 9_999);
      assert.equal(below.body.status, 'COMPLETED');
    });

    it('needs two different operators above the four-eyes threshold', async () => {
      const alice = await funded(1, 60_000);
      const bob = await funded(2, 0);
      const held = await stack.api.transfer(alice, bob, 50_000, uniqueName('k'), 0);
      const id = held.body.transfer_id;
      const first = await stack.api.call('POST', `/v1/ops/transfers/${id}/approve`, {
        ...ops('ops_alice'),
        body: { reason: 'checked' },
      });
      assert.deepEqual(
        [first.body.status, first.body.review],
        ['PENDING_REVIEW', { approvals: 1, approvals_required: 2 }],
      );
      const same = await stack.api.call('POST', `/v1/ops/transfers/${id}/approve`, {
        ...ops('ops_alice'),
        body: { reason: 'checked again' },
      });
      assert.equal(same.status, 409);
      assert.equal(same.body.error.code, 'second_approver_required');
      // The second approval from the UI: a signal.
      await stack.client.workflow.getHandle(id).signal('approve', {
        token: await actionTokenFor({ operator: 'ops_bob', action: 'approve', transferId: id }),
        reason: 'second pair of eyes',
      });
      await waitFor(async () => (await transferOf(id)).status === 'COMPLETED');
      assert.equal(await stack.api.balance(bob), 50_000);
      const actions = (await stack.api.call('GET', `/v1/ops/audit?target=${id}`, stack.api.ops)).body.entries.map(
        (entry: { action: string; operator: string }) => `${entry.action}:${entry.operator}`,
      );
      // The refused second approval by ops_alice is audited too, as refused.
      assert.deepEqual(actions, ['approve:ops_bob', 'refused:ops_alice', 'approve:ops_alice']);
    });

    it('rejects a held transfer: nothing moves', async () => {
      const alice = await funded(3, 20_000);
      const bob = await funded(0, 0);
      const held = await stack.api.transfer(alice, bob, 15_000, uniqueName('k'), 0);
      const rejected = await stack.api.call('POST', `/v1/ops/transfers/${held.body.transfer_id}/reject`, {
        ...ops(),
        body: { reason: 'suspicious' },
      });
      assert.equal(rejected.status, 200);
      assert.deepEqual([rejected.body.status, rejected.body.failure_reason], ['FAILED', 'review_rejected']);
      assert.equal(await stack.api.balance(alice), 20_000);
      const late = await stack.api.call('POST', `/v1/ops/transfers/${held.body.transfer_id}/approve`, {
        ...ops(),
        body: { reason: 'too late' },
      });
      assert.equal(late.body.error.code, 'transfer_not_in_review');
    });
  });

  describe('review holds: who may approve, and reruns', () => {
    it("refuses approval by the transfer's own parties and by the operator who made it", async () => {
      const alice = await funded(0, 30_000);
      const bob = await funded(1, 0);
      const held = await stack.api.call('POST', '/v1/wallet/transfers?wait=0', {
        ...ops('Ops_Maker'),
        body: {
          from_user_id: alice,
          to_user_id: bob,
          amount: 20_000,
          currency: 'USD',
          idempotency_key: uniqueName('k'),
        },
      });
      const id = held.body.transfer_id;
      for (const operator of ['ops_maker', alice, bob.toUpperCase()]) {
        const answer = await stack.api.call('POST', `/v1/ops/transfers/${id}/approve`, {
          ...ops(operator),
          body: { reason: 'mine' },
        });
        assert.deepEqual([answer.status, answer.body.error?.code], [409, 'approver_not_independent'], operator);
      }
      // A signal with a NUL in it cannot be stored: it is ignored, not retried forever.
      await stack.client.workflow.getHandle(id).signal('approve', {
        token: await actionTokenFor({ operator: 'ops_checker', action: 'approve', transferId: id }),
        reason: 'ok\u0000',
      });
      const approved = await stack.api.call('POST', `/v1/ops/transfers/${id}/approve`, {
        ...ops('ops_checker'),
        body: { reason: 'independent check' },
      });
      assert.equal(approved.body.status, 'COMPLETED', JSON.stringify(approved.body));
      const state = (await stack.client.workflow.getHandle(id).query('status')) as {
        ignoredSignals: { why: string }[];
      };
      assert.match(state.ignoredSignals[0]!.why, /^invalid_request/);
    });

    it("holds a rerun of a held transfer again, and a held record's money cannot move without release", async () => {
      const alice = await funded(2, 30_000);
      const bob = await funded(3, 0);
      const held = await stack.api.transfer(alice, bob, 20_000, uniqueName('k'), 0);
      const id = held.body.transfer_id;
      await stack.client.workflow.getHandle(id).terminate('ops terminated it');
      // The orphan sweeper's start (as a client's retry would) reruns it: held as before, even
      // under limits that would not hold it any more.
      const sweep = await import('../workers/orphan-sweeper');
      const pino = (await import('pino')).default;
      await sweep.sweepOrphanedTransfers({
        shards: stack.shards,
        client: stack.client,
        taskQueue: stack.taskQueue,
        timings: { ...test_timings, reviewTimeoutMs: 120_000 },
        limits: { ...test_limits, reviewThresholdMinor: 1_000_000n },
        logger: pino({ level: 'silent' }),
        metrics: (await import('../metrics/wallet-metrics')).walletMetrics(),
        orphanAgeMinMs: 0,
      });
      await waitFor(async () => (await stack.client.workflow.getHandle(id).describe()).status.name === 'RUNNING');
      const state = (await stack.client.workflow.getHandle(id).query('status')) as { status: string };
      assert.equal(state.status, 'PENDING_REVIEW');
      assert.equal(await stack.api.balance(alice), 30_000);
      const approved = await stack.api.call('POST', `/v1/ops/transfers/${id}/approve`, {
        ...ops('ops_alice'),
        body: { reason: 'after the rerun' },
      });
      assert.equal(approved.body.status, 'COMPLETED');
      assert.equal(await stack.api.balance(bob), 20_000);
    });

    it('closes no wallet whose own transfers are still pending or held', async () => {
      const carol = await funded(0, 0);
      const dave = await funded(1, 0);
      await stack.api.transfer(carol, dave, 20_000, uniqueName('k'), 0);
      const answer = await stack.api.call('POST', `/v1/ops/users/${carol}/close`, {
        ...ops(),
        body: { reason: 'left' },
      });
      assert.deepEqual([answer.status, answer.body.error.code], [409, 'transfers_in_flight']);
    });
  });

  describe('limits and wallet rules', () => {
    it('enforces the per-transfer maximum at the boundary', async () => {
      const alice = await funded(0, 2_000);
      const bob = await funded(1, 0);
      const limited = await startTestStack({
        limits: { ...test_limits, transferAmountMaxMinor: 1_000n, reviewThresholdMinor: 1_000_000n },
      });
      try {
        const a = userOnShard(limited.shards, 0, 'lim');
        const b = userOnShard(limited.shards, 1, 'lim');
        await limited.api.createUser(a);
        await limited.api.createUser(b);
        await limited.api.deposit(a, 5_000);
        const over = await limited.api.transfer(a, b, 1_001);
        assert.deepEqual([over.status, over.body.error?.code], [422, 'limit_exceeded']);
        assert.equal((await limited.api.transfer(a, b, 1_000)).body.status, 'COMPLETED');
        // Ops deposits are exempt.
        assert.equal((await limited.api.deposit(a, 2_000)).body.status, 'COMPLETED');
      } finally {
        await limited.stop();
      }
      // The maximum is the configured one, not a constant: the suite's own stack (a higher
      // maximum) takes what the limited one refused.
      assert.equal((await stack.api.transfer(alice, bob, 1_001)).body.status, 'COMPLETED');
      assert.equal(await stack.api.balance(bob), 1_001);
    });

    it('enforces the 24-hour outgoing limit against the ledger, with no race between concurrent transfers', async () => {
      const alice = await funded(2, 10_000);
      const bob = await funded(3, 0);
      const setLimit = await stack.api.call('PUT', `/v1/ops/users/${alice}/limits/USD`, {
        ...ops('ops_risk'),
        body: { daily_outgoing_max: 2_000, reason: 'new account' },
      });
      assert.equal(setLimit.status, 200, JSON.stringify(setLimit.body));
      assert.equal(setLimit.body.daily_outgoing_max, 2_000);
      const answers = await Promise.all(Array.from({ length: 8 }, () => stack.api.transfer(alice, bob, 500)));
      const statuses = answers.map((answer) => answer.body.status).sort();
      assert.deepEqual(statuses, [
        'COMPLETED',
        'COMPLETED',
        'COMPLETED',
        'COMPLETED',
        'FAILED',
        'FAILED',
        'FAILED',
        'FAILED',
      ]);
      assert.ok(
        answers
          .filter((answer) => answer.body.status === 'FAILED')
          .every((answer) => answer.body.failure_reason === 'limit_exceeded'),
      );
      // Exactly at the limit passed; one minor unit over fails.
      assert.equal((await stack.api.transfer(alice, bob, 1)).body.failure_reason, 'limit_exceeded');
      await stack.api.call('PUT', `/v1/ops/users/${alice}/limits/USD`, {
        ...ops('ops_risk'),
        body: { daily_outgoing_max: 2_001, reason: 'raise' },
      });
      assert.equal((await stack.api.transfer(alice, bob, 1)).body.status, 'COMPLETED');
      assert.equal(await stack.api.balance(alice), 7_999);
    });

    it('keeps a minimum balance and allows an overdraft set by ops, in the debit itself', async () => {
      const alice = await funded(0, 1_000);
      const bob = await funded(1, 0);
      await stack.api.call('PUT', `/v1/ops/users/${alice}/limits/USD`, {
        ...ops(),
        body: { min_balance: 100, reason: 'reserve' },
      });
      assert.equal((await stack.api.transfer(alice, bob, 901)).body.failure_reason, 'insufficient_funds');
      assert.equal((await stack.api.transfer(alice, bob, 900)).body.status, 'COMPLETED');
      await stack.api.call('PUT', `/v1/ops/users/${alice}/limits/USD`, {
        ...ops(),
        body: { min_balance: -500, reason: 'overdraft' },
      });
      assert.equal((await stack.api.transfer(alice, bob, 601)).body.failure_reason, 'insufficient_funds');
      assert.equal((await stack.api.transfer(alice, bob, 600)).body.status, 'COMPLETED');
      assert.equal(await stack.api.balance(alice), -500);
      const rules = await stack.api.call('GET', `/v1/ops/users/${alice}/limits/USD`, stack.api.ops);
      assert.deepEqual(rules.body, {
        user_id: alice,
        currency: 'USD',
        min_balance: -500,
        daily_outgoing_max: null,
        daily_outgoing_default: 100_000_000,
      });
      const tooHigh = await stack.api.call('PUT', `/v1/ops/users/${alice}/limits/USD`, {
        ...ops(),
        body: { min_balance: -499, reason: 'tighter' },
      });
      assert.deepEqual([tooHigh.status, tooHigh.body.error.code], [409, 'floor_above_balance']);
      const unknown = await stack.api.call('PUT', `/v1/ops/users/${alice}/limits/ABC`, {
        ...ops(),
        body: { min_balance: 0, reason: 'x' },
      });
      assert.deepEqual([unknown.status, unknown.body.error.code], [422, 'unsupported_currency']);
    });
  });

  describe('audit', () => {
    it('records every ops action with operator, reason and target, newest first, in pages', async () => {
      const dave = await funded(1, 700);
      await stack.api.call('POST', `/v1/ops/users/${dave}/freeze`, {
        ...ops('ops_sec'),
        body: { reason: 'suspected takeover' },
      });
      await stack.api.call('POST', `/v1/ops/users/${dave}/unfreeze`, { ...ops('ops_sec') });
      const all = await stack.api.call('GET', `/v1/ops/audit?target=${dave}&limit=1`, stack.api.ops);
      assert.equal(all.status, 200);
      assert.equal(all.body.entries.length, 1);
      assert.deepEqual([all.body.entries[0].action, all.body.entries[0].operator], ['unfreeze', 'ops_sec']);
      const next = await stack.api.call(
        'GET',
        `/v1/ops/audit?target=${dave}&limit=1&cursor=${all.body.next_cursor}`,
        stack.api.ops,
      );
      assert.deepEqual([next.body.entries[0].action, next.body.entries[0].reason], ['freeze', 'suspected takeover']);
      const deposits = await stack.api.call(
        'GET',
        `/v1/ops/audit?action=deposit&operator=ops_console&limit=200`,
        stack.api.ops,
      );
      assert.ok(
        deposits.body.entries.some((entry: { details: { to_user_id: string } }) => entry.details.to_user_id === dave),
      );
      assert.equal((await stack.api.call('GET', '/v1/ops/audit', { as: dave })).status, 403);
      assert.equal((await stack.api.call('GET', '/v1/ops/audit?cursor=nope', stack.api.ops)).status, 400);
      assert.equal(
        (await stack.api.call('GET', '/v1/ops/audit?cursor=9999999999999999999_0_1', stack.api.ops)).status,
        400,
      );
    });
  });
});

describe('operations with short windows', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({
      timings: { ...test_timings, reversalWindowMs: 2_000, reviewTimeoutMs: 2_000 },
      limits: { ...test_limits, reviewThresholdMinor: 10_000n },
    });
  });
  after(async () => stack.stop());

  const close = (userId: string) =>
    stack.api.call('POST', `/v1/ops/users/${userId}/close`, { ...stack.api.ops, body: { reason: 'customer left' } });
  /** Until the window close_wallet reports (details.open_until) has passed. */
  const pastWindow = (refused: { body: { error: { details: { open_until: string } } } }) =>
    new Promise((resolve) => setTimeout(resolve, Date.parse(refused.body.error.details.open_until) - Date.now() + 200));

  it('closes a wallet only at zero and once nothing into or out of it can be reversed; credits to it then fail', async () => {
    const alice = userOnShard(stack.shards, 2, 'close');
    const bob = userOnShard(stack.shards, 3, 'close');
    await stack.api.createUser(alice);
    await stack.api.createUser(bob);
    await stack.api.deposit(alice, 1_000);
    await stack.api.deposit(bob, 300);
    const notZero = await close(bob);
    assert.deepEqual([notZero.status, notZero.body.error.code], [409, 'balance_not_zero']);
    const withdrawn = await stack.api.call('POST', `/v1/wallet/${bob}/withdrawals?wait=30`, {
      as: bob,
      body: { amount: 300, currency: 'USD', idempotency_key: uniqueName('w') },
    });
    assert.equal(withdrawn.body.status, 'COMPLETED');
    // At zero, but the deposit and the withdrawal can still be reversed: money would move into or
    // out of a closed wallet.
    const open = await close(bob);
    assert.deepEqual([open.status, open.body.error.code], [409, 'reversal_window_open'], JSON.stringify(open.body));
    assert.ok(Date.parse(open.body.error.details.open_until) > Date.now());
    await pastWindow(open);
    const closed = await close(bob);
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    const sent = await stack.api.transfer(alice, bob, 200);
    assert.deepEqual([sent.body.status, sent.body.failure_reason], ['FAILED', 'wallet_closed']);
    assert.equal(await stack.api.balance(alice), 1_000);
  });

  it('sees a reversible transfer into the wallet whose record is on another shard', async () => {
    const carol = userOnShard(stack.shards, 1, 'close');
    const dave = userOnShard(stack.shards, 0, 'close');
    const erin = userOnShard(stack.shards, 2, 'close');
    for (const user of [carol, dave, erin]) await stack.api.createUser(user);
    await stack.api.deposit(dave, 1_000);
    const overdraft = await stack.api.call('PUT', `/v1/ops/users/${carol}/limits/USD`, {
      ...stack.api.ops,
      body: { min_balance: -100, reason: 'overdraft' },
    });
    assert.equal(overdraft.status, 200);
    // Carol's own transfer (her overdraft), then its window passes: only the incoming one below is open.
    assert.equal((await stack.api.transfer(carol, erin, 100)).body.status, 'COMPLETED');
    await new Promise((resolve) => setTimeout(resolve, 2_000 + test_timings.activityTimeoutMs + 200));
    const incoming = await stack.api.transfer(dave, carol, 100);
    assert.equal(incoming.body.status, 'COMPLETED');
    assert.equal(await stack.api.balance(carol), 0);
    const carolShard = stack.shards.pool(stack.shards.shardOf(carol));
    const records = await carolShard.query('select count(*)::int as count from transfers where transfer_id = $1', [
      incoming.body.transfer_id,
    ]);
    assert.equal(records.rows[0].count, 0, "the incoming transfer's record is on dave's shard only");
    const open = await close(carol);
    assert.deepEqual([open.status, open.body.error.code], [409, 'reversal_window_open'], JSON.stringify(open.body));
    await pastWindow(open);
    assert.equal((await close(carol)).status, 200);
  });

  it('closes the reversal window and times out reviews', async () => {
    const alice = userOnShard(stack.shards, 0, 'win');
    const bob = userOnShard(stack.shards, 1, 'win');
    await stack.api.createUser(alice);
    await stack.api.createUser(bob);
    await stack.api.deposit(alice, 50_000);
    const sent = await stack.api.transfer(alice, bob, 100);
    const held = await stack.api.transfer(alice, bob, 20_000, uniqueName('k'), 0);
    assert.equal((await stack.client.workflow.getHandle(sent.body.transfer_id).result()).status, 'COMPLETED');
    const late = await stack.api.call('POST', `/v1/ops/transfers/${sent.body.transfer_id}/reverse`, {
      ...stack.api.ops,
      body: { reason: 'too late' },
    });
    assert.deepEqual([late.status, late.body.error.code], [409, 'reversal_window_closed']);
    const expired = await stack.api.call('GET', `/v1/wallet/transfers/${held.body.transfer_id}?wait=10`, stack.api.ops);
    assert.deepEqual([expired.body.status, expired.body.failure_reason], ['FAILED', 'review_timeout']);
    assert.equal(await stack.api.balance(alice), 49_900);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

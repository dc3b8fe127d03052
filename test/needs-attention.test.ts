import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { walletMetrics } from '../metrics/wallet-metrics';
import { checkTransfers } from '../workers/transfer-monitor';
import { statusQuery } from '../workflows/messages';
import { driftedAccounts, ledgerTotals, postingsOf, userOnShard } from './support/ledger';
import { poisonTriggerSql } from './support/poison';
import { actionTokenFor, startTestStack, test_limits, test_timings, type TestStack } from './support/stack';

const seen_within_ms = 20_000;

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seen_within_ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`not seen within ${seen_within_ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * A constraint that fails on purpose: every shard refuses an entry of one kind and amount with
 * SQLSTATE 23514 (check_violation, constraint `test_poison`), as a real constraint or a value too
 * long would on every attempt. Each test uses an amount of its own.
 */
const poison_sql = [
  'create table if not exists test_poison (kind text not null, amount bigint not null, primary key (kind, amount));',
  poisonTriggerSql(
    'test_poison_entry',
    'insert',
    'entries',
    'exists (select 1 from test_poison p where p.kind = new.kind and p.amount = new.amount)',
  ),
  poisonTriggerSql(
    'test_poison_finish',
    'update',
    'transfers',
    "new.status <> old.status and exists (select 1 from test_poison p where p.kind = 'finish' and p.amount = new.amount)",
  ),
  poisonTriggerSql(
    'test_poison_audit',
    'insert',
    'ops_audit',
    'exists (select 1 from test_poison p where p.kind = new.action and p.amount = 0)',
  ),
].join('\n');

describe('a step no retry can fix: NEEDS_ATTENTION, then retry', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({
      timings: { ...test_timings, reversalWindowMs: 120_000, reviewTimeoutMs: 120_000 },
      limits: { ...test_limits, reviewThresholdMinor: 10_000n, fourEyesThresholdMinor: 50_000n },
    });
    for (const pool of stack.shards.pools) await pool.query(poison_sql);
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(stack.shards), []);
    await stack.stop();
  });

  const poison = async (kind: string, amount: number, on: boolean) => {
    for (const pool of stack.shards.pools)
      await pool.query(
        on
          ? `insert into test_poison (kind, amount) values ($1::text, $2::bigint) on conflict do nothing`
          : `delete from test_poison where kind = $1::text and amount = $2::bigint`,
        [kind, amount],
      );
  };
  async function funded(shard: number, amount: number): Promise<string> {
    const userId = userOnShard(stack.shards, shard, 'na');
    assert.equal((await stack.api.createUser(userId)).status, 201);
    if (amount > 0) assert.equal((await stack.api.deposit(userId, amount)).body.status, 'COMPLETED');
    return userId;
  }

  it('a credit that breaks a constraint holds the transfer, debit posted and nothing else, until ops retry it', async () => {
    const amount = 4_321;
    const totalsBefore = await ledgerTotals(stack.shards, 'USD');
    const alice = await funded(0, 10_000);
    const bob = await funded(1, 0);
    await poison('transfer_in', amount, true);
    const sent = await stack.api.transfer(alice, bob, amount, undefined, 0);
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const id: string = sent.body.transfer_id;
    const handle = stack.client.workflow.getHandle(id);

    const state = await eventually('NEEDS_ATTENTION in the status query', async () => {
      const current = await handle.query(statusQuery);
      return current.status === 'NEEDS_ATTENTION' ? current : undefined;
    });
    assert.equal(state.step, 'crediting');
    assert.deepEqual(
      { ...state.attention, since: undefined },
      {
        step: 'crediting',
        activity: 'creditWallet',
        statusBefore: 'PENDING',
        failure: 'ledger_error_integrity_constraint',
        sqlState: '23514',
        constraint: 'test_poison',
        since: undefined,
        retries: 0,
      },
    );
    const attribute = async () => (await handle.describe()).searchAttributes.TransferStatus?.[0];
    assert.equal(await attribute(), 'NEEDS_ATTENTION');
    // The money is where the last committed leg left it: debited, not credited; the record still PENDING.
    assert.equal(await stack.api.balance(alice), 10_000 - amount);
    assert.equal(await stack.api.balance(bob), 0);
    assert.deepEqual(
      (await postingsOf(stack.shards, id)).map((posting) => `${posting.leg}:${posting.outcome}`),
      ['debit:posted'],
    );
    const record = await stack.api.call('GET', `/v1/wallet/transfers/${id}`, stack.api.ops);
    assert.equal(record.body.status, 'PENDING');

    // The monitor counts it (stuck and needing attention) and the ops listing of stuck transfers names it.
    const logger = pino({ level: 'silent' });
    const checked = await eventually('the monitor counting it', async () => {
      const counts = await checkTransfers({
        client: stack.client,
        logger,
        metrics: walletMetrics(),
        stuckAfterMs: 300_000,
      });
      return counts.needsAttention >= 1 && counts.stuck >= 1 ? counts : undefined;
    });
    assert.ok(checked.needsAttention >= 1);
    const metrics = await stack.api.call('GET', '/metrics');
    assert.match(String(metrics.body), /^wallet_transfers_needing_attention [1-9][0-9]*$/m);
    await eventually('listed as stuck', async () => {
      const listing = await stack.api.call('GET', '/v1/ops/transfers?stuck=true&limit=100', stack.api.ops);
      assert.equal(listing.status, 200, JSON.stringify(listing.body));
      const found = (listing.body.transfers as { transfer_id: string; status: string }[]).find(
        (transfer) => transfer.transfer_id === id,
      );
      return found?.status === 'NEEDS_ATTENTION' ? found : undefined;
    });

    // A retry before the cause is fixed fails again and says so; a retry of a healthy transfer is refused.
    const early = await stack.api.call('POST', `/v1/ops/transfers/${id}/retry`, {
      ...stack.api.ops,
      body: { reason: 'try again' },
    });
    assert.equal(early.status, 200, JSON.stringify(early.body));
    assert.equal(early.body.retry.status, 'NEEDS_ATTENTION');
    assert.equal(await stack.api.balance(bob), 0);

    await poison('transfer_in', amount, false);
    const retried = await stack.api.call('POST', `/v1/ops/transfers/${id}/retry`, {
      as: 'ops_carol',
      role: 'ops',
      body: { reason: 'constraint fixed' },
    });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    // Answered when the step ran: the credit posted (the workflow is back to PENDING for a moment,
    // the record COMPLETED by the credit's own transaction).
    assert.deepEqual(retried.body.retry, { status: 'PENDING', step: 'crediting' });
    assert.equal(retried.body.status, 'COMPLETED');
    assert.equal(await stack.api.balance(alice), 10_000 - amount);
    assert.equal(await stack.api.balance(bob), amount);
    assert.deepEqual(
      (await postingsOf(stack.shards, id)).map((posting) => `${posting.leg}:${posting.outcome}`),
      ['credit:posted', 'debit:posted'],
    );
    assert.equal(await attribute(), 'COMPLETED');
    const again = await stack.api.call('POST', `/v1/ops/transfers/${id}/retry`, {
      ...stack.api.ops,
      body: { reason: 'once more' },
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'transfer_not_needing_attention');

    const audit = await stack.api.call('GET', `/v1/ops/audit?target=${id}`, stack.api.ops);
    assert.deepEqual(
      audit.body.entries
        .filter((entry: { action: string }) => entry.action === 'retry')
        .map((entry: { operator: string; via: string; details: { retry: number; activity: string } }) => [
          entry.operator,
          entry.via,
          entry.details.retry,
          entry.details.activity,
        ]),
      [
        ['ops_carol', 'update', 2, 'creditWallet'],
        ['ops_console', 'update', 1, 'creditWallet'],
      ],
    );
    const totalsAfter = await ledgerTotals(stack.shards, 'USD');
    assert.equal(totalsAfter.clearing, totalsBefore.clearing);
    assert.equal(totalsAfter.customer + totalsAfter.settlement, totalsBefore.customer + totalsBefore.settlement);
  });

  it('a debit that breaks a constraint fails the transfer: nothing moved, the customer may send it again', async () => {
    const amount = 4_322;
    const alice = await funded(0, 10_000);
    const bob = await funded(1, 0);
    await poison('transfer_out', -amount, true);
    try {
      const sent = await stack.api.transfer(alice, bob, amount);
      assert.equal(sent.body.status, 'FAILED', JSON.stringify(sent.body));
      assert.equal(sent.body.failure_reason, 'ledger_unavailable');
      assert.equal(await stack.api.balance(alice), 10_000);
      assert.equal(await stack.api.balance(bob), 0);
      assert.deepEqual(
        (await postingsOf(stack.shards, sent.body.transfer_id)).map((posting) => `${posting.leg}:${posting.outcome}`),
        ['debit:voided'],
      );
    } finally {
      await poison('transfer_out', -amount, false);
    }
  });

  const legsOf = async (id: string) =>
    (await postingsOf(stack.shards, id)).map((posting) => `${posting.leg}:${posting.outcome}`);
  const attentionOf = (id: string, activity: string) =>
    eventually(`${id} NEEDS_ATTENTION in ${activity}`, async () => {
      const current = await stack.client.workflow.getHandle(id).query(statusQuery);
      if (current.ignoredSignals.length > 0) throw new Error(JSON.stringify(current.ignoredSignals));
      return current.status === 'NEEDS_ATTENTION' && current.attention?.activity === activity ? current : undefined;
    });
  const retry = async (id: string) => {
    const answer = await stack.api.call('POST', `/v1/ops/transfers/${id}/retry`, {
      ...stack.api.ops,
      body: { reason: 'cause fixed' },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.notEqual(answer.body.retry.status, 'NEEDS_ATTENTION');
    return answer.body;
  };
  const statusOf = async (id: string) =>
    (await stack.api.call('GET', `/v1/wallet/transfers/${id}`, stack.api.ops)).body.status as string;

  it("the record's finish failing after the credit posted: held with both legs posted, finished once on retry", async () => {
    const amount = 4_323;
    const alice = await funded(0, 10_000);
    const bob = await funded(1, 0);
    await poison('finish', amount, true);
    const id: string = (await stack.api.transfer(alice, bob, amount, undefined, 0)).body.transfer_id;
    const state = await attentionOf(id, 'creditWallet');
    assert.equal(state.attention?.constraint, 'test_poison');
    assert.deepEqual(await legsOf(id), ['credit:posted', 'debit:posted']);
    assert.equal(await statusOf(id), 'PENDING');
    assert.equal(await stack.api.balance(bob), amount);
    await poison('finish', amount, false);
    await retry(id);
    assert.equal(await statusOf(id), 'COMPLETED');
    assert.deepEqual(await legsOf(id), ['credit:posted', 'debit:posted']);
    assert.equal(await stack.api.balance(alice), 10_000 - amount);
    assert.equal(await stack.api.balance(bob), amount);
  });

  it('a review decision whose audit row fails: held, nothing moved, released once on retry', async () => {
    const amount = 20_001;
    const alice = await funded(0, 30_000);
    const bob = await funded(1, 0);
    const id: string = (await stack.api.transfer(alice, bob, amount, undefined, 0)).body.transfer_id;
    const handle = stack.client.workflow.getHandle(id);
    await eventually('held for review', async () =>
      (await handle.query(statusQuery)).status === 'PENDING_REVIEW' ? true : undefined,
    );
    await poison('approve', 0, true);
    try {
      await handle.signal('approve', {
        token: await actionTokenFor({ operator: 'ops_dora', action: 'approve', transferId: id }),
        reason: 'looks fine',
      });
      const state = await attentionOf(id, 'recordReviewDecision');
      assert.equal(state.attention?.statusBefore, 'PENDING_REVIEW');
      assert.equal(await statusOf(id), 'PENDING_REVIEW');
      assert.deepEqual(await legsOf(id), []);
    } finally {
      await poison('approve', 0, false);
    }
    await retry(id);
    await eventually('completed', async () => ((await statusOf(id)) === 'COMPLETED' ? true : undefined));
    assert.deepEqual(await legsOf(id), ['credit:posted', 'debit:posted']);
    assert.equal(await stack.api.balance(bob), amount);
  });

  it("a reversal's credit failing: held half done (the recipient debited, the sender not yet credited), reversed once on retry", async () => {
    const amount = 4_324;
    const alice = await funded(0, 10_000);
    const bob = await funded(1, 0);
    const sent = await stack.api.transfer(alice, bob, amount);
    assert.equal(sent.body.status, 'COMPLETED');
    const id: string = sent.body.transfer_id;
    await poison('reversal_in', amount, true);
    const handle = stack.client.workflow.getHandle(id);
    await handle.signal('reverse', {
      token: await actionTokenFor({ operator: 'ops_erin', action: 'reverse', transferId: id }),
      reason: 'dispute',
    });
    const state = await attentionOf(id, 'reverseTransfer');
    assert.equal(state.attention?.statusBefore, 'COMPLETED');
    assert.deepEqual(await legsOf(id), ['credit:posted', 'debit:posted', 'reversal_debit:posted']);
    assert.equal(await stack.api.balance(bob), 0);
    assert.equal(await stack.api.balance(alice), 10_000 - amount);
    assert.equal(await statusOf(id), 'COMPLETED');
    await poison('reversal_in', amount, false);
    assert.equal((await retry(id)).status, 'REVERSED');
    assert.deepEqual(await legsOf(id), [
      'credit:posted',
      'debit:posted',
      'reversal_credit:posted',
      'reversal_debit:posted',
    ]);
    assert.equal(await stack.api.balance(alice), 10_000);
    assert.equal(await stack.api.balance(bob), 0);
  });

  it("a reversal refusal's record failing: held, nothing moved; on retry the refusal is recorded once", async () => {
    const amount = 4_325;
    const alice = await funded(0, 10_000);
    const bob = await funded(1, 0);
    const carol = await funded(2, 0);
    const sent = await stack.api.transfer(alice, bob, amount);
    assert.equal(sent.body.status, 'COMPLETED');
    const id: string = sent.body.transfer_id;
    assert.equal((await stack.api.transfer(bob, carol, amount)).body.status, 'COMPLETED');
    await poison('reverse_refused', 0, true);
    const handle = stack.client.workflow.getHandle(id);
    try {
      await handle.signal('reverse', {
        token: await actionTokenFor({ operator: 'ops_erin', action: 'reverse', transferId: id }),
        reason: 'dispute',
      });
      await attentionOf(id, 'reverseTransfer');
      // A refused reversal debit uses up no key (ops may force it later): nothing of it is in the ledger.
      assert.deepEqual(await legsOf(id), ['credit:posted', 'debit:posted']);
    } finally {
      await poison('reverse_refused', 0, false);
    }
    await retry(id);
    assert.equal(await statusOf(id), 'COMPLETED');
    const state = await handle.query(statusQuery);
    assert.deepEqual(
      state.reversalRefusals.map((refusal) => refusal.refusal),
      ['insufficient_funds'],
    );
    // Nothing retries by itself any more: the refusal is recorded once, and nothing posted.
    assert.deepEqual(await legsOf(id), ['credit:posted', 'debit:posted']);
    assert.equal(await stack.api.balance(bob), 0);
    const audit = await stack.api.call('GET', `/v1/ops/audit?target=${id}`, stack.api.ops);
    assert.deepEqual(
      audit.body.entries.map((entry: { action: string }) => entry.action),
      ['reverse_refused', 'retry'],
    );
    assert.equal(await stack.api.balance(alice), 10_000 - amount);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { driftedAccounts, ledgerTotals, userOnShard } from './support/ledger';
import { uniqueName } from './support/temporal';
import { holdLock } from './support/shards';
import { createFundedUser, startWalletProcess, type WalletProcess } from './support/wallet-process';

const locked_shard = 3;
const healthy_shards = [0, 1, 2];
const burst_size = 300;
const burst_users = 30;
const deposit_minor = 100_000;
/** Longer than a debit's attempts take to end at lock_timeout (5 × 750 ms plus backoff, in the suite's wallet process). */
const row_lock_held_ms = 10_000;
/** A short target, so a blocked shard's stall passes it in seconds (ADMISSION_TARGET defaults to 2 min). */
const admission_target_s = 3;
const ops = { as: 'ops_console', role: 'ops' as const };

/**
 * Issue 18: admission by queueing delay, per shard (api/shard-admission.ts). A burst far above
 * the old fixed cap of 32 is queued, not refused; a blocked shard refuses only the transfers
 * that touch it, once the time it has finished nothing passes the target.
 */
async function fundedUsers(wallet: WalletProcess, count: number): Promise<string[]> {
  const users = Array.from({ length: count }, (_, index) =>
    userOnShard(wallet.shards, healthy_shards[index % healthy_shards.length]!, `payee${index}`),
  );
  // Set up at once: one deposit workflow each, independent of the others.
  await Promise.all(users.map((user) => createFundedUser(wallet, user, deposit_minor)));
  return users;
}

/** A transfer of one minor unit, as the payer asks for it. */
function oneUnit(from: string, to: string) {
  return {
    as: from,
    body: { from_user_id: from, to_user_id: to, amount: 1, currency: 'USD', idempotency_key: uniqueName('unit') },
  };
}

describe('admission by queueing delay: a burst', () => {
  let wallet: WalletProcess;
  let users: string[];
  before(async () => {
    // ADMISSION_TARGET as deployed (2 min).
    wallet = await startWalletProcess();
    users = await fundedUsers(wallet, burst_users);
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(wallet.shards), []);
    await wallet.stop();
  });

  it(`queues a burst of ${burst_size} transfers sent at once: none refused, all final`, async (t) => {
    const sentAt = Date.now();
    const answers = await Promise.all(
      Array.from({ length: burst_size }, async (_, index) => {
        const from = users[index % users.length]!;
        const body = {
          from_user_id: from,
          to_user_id: users[(index * 7 + 1) % users.length],
          amount: 10,
          currency: 'USD',
          idempotency_key: uniqueName('burst'),
        };
        return { from, ...(await wallet.call('POST', '/v1/wallet/transfers', { as: from, body })) };
      }),
    );
    const statuses = answers.map((answer) => answer.status);
    assert.deepEqual(
      statuses.filter((status) => status !== 202),
      [],
      JSON.stringify(answers.find((answer) => answer.status !== 202)?.body),
    );
    t.diagnostic(`${burst_size} transfers accepted ${Date.now() - sentAt} ms after they were sent`);
    // Each payer holds at most WAITS_PER_CALLER_MAX waits; past it a wait answers at once, so ask again.
    const reads = await Promise.all(
      answers.map(async (answer) => {
        for (const until = Date.now() + 90_000; ;) {
          const read = await wallet.callUntilAnswered(
            'GET',
            `/v1/wallet/transfers/${answer.body.transfer_id}?wait=30`,
            {
              as: answer.from,
            },
          );
          if (read.body.status !== 'PENDING' || Date.now() > until) return read;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }),
    );
    const odd = reads.find((read) => read.status !== 200);
    assert.equal(odd, undefined, JSON.stringify(odd?.body));
    t.diagnostic(`${burst_size} transfers final ${Date.now() - sentAt} ms after they were sent`);
    // Every transfer completed: none refused, and none failed because its hot payer's row was
    // busy (before the debit waited out a busy shard, 5 and 12 of 300 ran out of attempts and
    // failed as ledger_unavailable on a busy machine).
    const failed = reads.filter((read) => read.body.status !== 'COMPLETED').map((read) => read.body);
    assert.deepEqual(failed, [], `${failed.length} of ${burst_size} not completed`);
    const totals = await ledgerTotals(wallet.shards, 'USD');
    assert.equal(totals.clearing, 0n);
  });

  it("waits out a payer's row lock held past every debit attempt, and completes", async () => {
    // The wallet process's 5 debit attempts, each ending at lock_timeout (750 ms) with backoff
    // between them, are spent in about 5.5 s; the row stays locked well past that.
    const [payer, payee] = [users[0]!, users[1]!];
    const lock = await holdLock(
      wallet.urls[wallet.shards.shardOf(payer)]!,
      "select 1 from accounts where user_id = $1::text and kind = 'customer' for update",
      [payer],
    );
    let transferId: string;
    try {
      assert.equal(lock.rowCount, 1);
      const sent = await wallet.call('POST', '/v1/wallet/transfers', {
        as: payer,
        body: {
          from_user_id: payer,
          to_user_id: payee,
          amount: 3,
          currency: 'USD',
          idempotency_key: uniqueName('hot'),
        },
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      transferId = sent.body.transfer_id as string;
      await new Promise((resolve) => setTimeout(resolve, row_lock_held_ms));
      const meanwhile = await wallet.call('GET', `/v1/wallet/transfers/${transferId}`, { as: payer });
      assert.equal(meanwhile.body.status, 'PENDING', 'the debit waits for the lock');
    } finally {
      await lock.release();
    }
    const final = await wallet.callUntilAnswered('GET', `/v1/wallet/transfers/${transferId}?wait=30`, { as: payer });
    assert.equal(final.body.status, 'COMPLETED', JSON.stringify(final.body));
  });
});

describe('admission by queueing delay: a blocked shard', () => {
  let wallet: WalletProcess;
  let users: string[];
  before(async () => {
    wallet = await startWalletProcess({ ADMISSION_TARGET: `${admission_target_s}s` });
    users = await fundedUsers(wallet, 6);
  });
  after(async () => {
    await wallet.stop();
  });

  it('refuses transfers touching a blocked shard with 503 and Retry-After, and keeps the others going', async (t) => {
    const stuck = Array.from({ length: 3 }, (_, index) => userOnShard(wallet.shards, locked_shard, `stuck${index}`));
    for (const user of stuck) await createFundedUser(wallet, user, 0);

    const lock = await holdLock(wallet.urls[locked_shard]!, 'lock table accounts in access exclusive mode');
    const lockedAt = Date.now();
    const admittedIntoBlocked: string[] = [];
    let refusal: { status: number; headers: Headers; body: any } | undefined;
    let healthyCompleted = 0;
    try {
      // Every 200 ms: one transfer into the locked shard, one between healthy shards (which must
      // complete within its wait), until the blocked shard refuses.
      for (let round = 0; !refusal; round++) {
        assert.ok(Date.now() - lockedAt < admission_target_s * 1000 * 5, 'the blocked shard was never refused');
        const from = users[round % users.length]!;
        const blocked = await wallet.call('POST', '/v1/wallet/transfers', oneUnit(from, stuck[round % stuck.length]!));
        if (blocked.status === 202) admittedIntoBlocked.push(blocked.body.transfer_id as string);
        else refusal = blocked;
        const healthy = await wallet.call(
          'POST',
          '/v1/wallet/transfers?wait=10',
          oneUnit(from, users[(round + 1) % users.length]!),
        );
        assert.equal(healthy.status, 200, JSON.stringify(healthy.body));
        assert.equal(healthy.body.status, 'COMPLETED');
        healthyCompleted++;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const refusedAfterMs = Date.now() - lockedAt;
      t.diagnostic(
        `refused ${refusedAfterMs} ms after the lock, after admitting ${admittedIntoBlocked.length} into it; ${healthyCompleted} healthy transfers completed meanwhile`,
      );
      assert.equal(refusal.status, 503, JSON.stringify(refusal.body));
      t.diagnostic(`refusal: ${JSON.stringify(refusal.body)}, Retry-After ${refusal.headers.get('retry-after')}`);
      assert.equal(refusal.body.error.code, 'overloaded');
      assert.ok(Number(refusal.headers.get('retry-after')) >= 1);
      assert.ok(refusedAfterMs >= admission_target_s * 1000, 'not before the stall passed the target');

      // Still refused, while healthy shards keep admitting; an ops deposit into a healthy shard too.
      const again = await wallet.call('POST', '/v1/wallet/transfers', oneUnit(users[0]!, stuck[0]!));
      assert.equal(again.status, 503);
      const deposit = await wallet.call('POST', `/v1/wallet/${users[1]}/deposits?wait=10`, {
        ...ops,
        body: { amount: 1, currency: 'USD', idempotency_key: uniqueName('dep') },
      });
      assert.equal(deposit.body.status, 'COMPLETED');
    } finally {
      await lock.release();
    }

    // Released: its transfers finish, and it admits again.
    const finals = await Promise.all(
      admittedIntoBlocked.map(
        async (transferId) =>
          (await wallet.callUntilAnswered('GET', `/v1/wallet/transfers/${transferId}?wait=30`, ops)).body
            .status as string,
      ),
    );
    assert.deepEqual(finals, Array(admittedIntoBlocked.length).fill('COMPLETED'));
    const after = await wallet.callUntilAnswered('POST', '/v1/wallet/transfers?wait=10', oneUnit(users[0]!, stuck[0]!));
    assert.equal(after.body.status, 'COMPLETED');
    assert.deepEqual(await driftedAccounts(wallet.shards), []);
  });
});

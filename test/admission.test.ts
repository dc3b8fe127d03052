import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { driftedAccounts, ledgerTotals, userOnShard } from './support/ledger';
import { uniqueName } from './support/temporal';
import { startWalletProcess, type WalletProcess } from './support/wallet-process';

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
  for (const user of users) {
    assert.equal((await wallet.call('POST', '/v1/wallet/users', { ...ops, body: { user_id: user } })).status, 201);
    const deposit = await wallet.call('POST', `/v1/wallet/${user}/deposits?wait=30`, {
      ...ops,
      body: { amount: deposit_minor, currency: 'USD', idempotency_key: uniqueName('dep') },
    });
    assert.equal(deposit.body.status, 'COMPLETED');
  }
  return users;
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
    const locker = new pg.Client({
      connectionString: wallet.urls[wallet.shards.shardOf(payer)],
      application_name: 'test-row-locker',
    });
    locker.on('error', () => undefined);
    await locker.connect();
    let transferId: string;
    try {
      await locker.query('begin');
      const locked = await locker.query("select 1 from accounts where user_id = $1 and kind = 'customer' for update", [
        payer,
      ]);
      assert.equal(locked.rowCount, 1);
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
      await locker.query('rollback').catch(() => undefined);
      await locker.end();
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
    for (const user of stuck)
      assert.equal((await wallet.call('POST', '/v1/wallet/users', { ...ops, body: { user_id: user } })).status, 201);

    const locker = new pg.Client({ connectionString: wallet.urls[locked_shard], application_name: 'test-locker' });
    locker.on('error', () => undefined);
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table accounts in access exclusive mode');
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
        const blocked = await wallet.call('POST', '/v1/wallet/transfers', {
          as: from,
          body: {
            from_user_id: from,
            to_user_id: stuck[round % stuck.length],
            amount: 1,
            currency: 'USD',
            idempotency_key: uniqueName('blocked'),
          },
        });
        if (blocked.status === 202) admittedIntoBlocked.push(blocked.body.transfer_id as string);
        else refusal = blocked;
        const healthy = await wallet.call('POST', '/v1/wallet/transfers?wait=10', {
          as: from,
          body: {
            from_user_id: from,
            to_user_id: users[(round + 1) % users.length],
            amount: 1,
            currency: 'USD',
            idempotency_key: uniqueName('healthy'),
          },
        });
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
      const again = await wallet.call('POST', '/v1/wallet/transfers', {
        as: users[0]!,
        body: {
          from_user_id: users[0],
          to_user_id: stuck[0],
          amount: 1,
          currency: 'USD',
          idempotency_key: uniqueName('blocked'),
        },
      });
      assert.equal(again.status, 503);
      const deposit = await wallet.call('POST', `/v1/wallet/${users[1]}/deposits?wait=10`, {
        ...ops,
        body: { amount: 1, currency: 'USD', idempotency_key: uniqueName('dep') },
      });
      assert.equal(deposit.body.status, 'COMPLETED');
    } finally {
      await locker.query('rollback').catch(() => undefined);
      await locker.end();
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
    const after = await wallet.callUntilAnswered('POST', '/v1/wallet/transfers?wait=10', {
      as: users[0]!,
      body: {
        from_user_id: users[0],
        to_user_id: stuck[0],
        amount: 1,
        currency: 'USD',
        idempotency_key: uniqueName('k'),
      },
    });
    assert.equal(after.body.status, 'COMPLETED');
    assert.deepEqual(await driftedAccounts(wallet.shards), []);
  });
});

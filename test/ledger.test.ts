import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createActivities } from '../activities';
import type { LegInput } from '../domain/transfer-legs';
import { insertUser, setFrozen } from '../ledger/users';
import { driftedAccounts, ledgerTotals, postingsOf, userOnShard } from './support/ledger';
import { createTestShards } from './support/shards';
import { mockActivityRunner, uniqueName } from './support/temporal';

/** The activities against real PostgreSQL shards, each run in a mock activity context. */
describe('ledger activities', () => {
  let fixture: Awaited<ReturnType<typeof createTestShards>>;
  let activities: ReturnType<typeof createActivities>;
  const run = mockActivityRunner();

  before(async () => {
    fixture = await createTestShards(2);
    activities = createActivities({ shards: fixture.shards, logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    assert.deepEqual(await driftedAccounts(fixture.shards), []);
    await fixture.drop();
  });

  async function userWith(balanceMinor: bigint, shard = 0): Promise<string> {
    const userId = userOnShard(fixture.shards, shard, 'u');
    await insertUser(fixture.shards.pool(shard), userId);
    if (balanceMinor > 0n) await run(activities.creditWallet, leg(userId, balanceMinor, 'settlement'));
    return userId;
  }

  function leg(
    userId: string,
    amount: bigint,
    counterparty: LegInput['counterparty'] = 'clearing',
    transferId = uniqueName('tr'),
  ): LegInput {
    return { transferId, userId, amountMinor: amount.toString(), currency: 'USD', counterparty };
  }

  async function balanceOf(userId: string): Promise<bigint> {
    const found = await fixture.shards
      .pool(fixture.shards.shardOf(userId))
      .query<{ balance: string }>(`select balance from accounts where account_id = $1`, [`customer:${userId}:USD`]);
    return BigInt(found.rows[0]?.balance ?? '0');
  }

  it('posts a leg once however often it is retried', async () => {
    const alice = await userWith(1_000n);
    const debit = leg(alice, 300n);
    const first = await run(activities.debitWallet, debit);
    const second = await run(activities.debitWallet, debit);
    assert.deepEqual(first, second);
    assert.equal(await balanceOf(alice), 700n);
    assert.deepEqual(await postingsOf(fixture.shards, debit.transferId), [
      { leg: 'debit', outcome: 'posted', entries: 2 },
    ]);
  });

  it('never overdraws a wallet under concurrent debits', async () => {
    const alice = await userWith(1_000n);
    const attempts = Array.from({ length: 40 }, () => run(activities.debitWallet, leg(alice, 100n)));
    const results = await Promise.allSettled(attempts);
    const posted = results.filter((result) => result.status === 'fulfilled');
    const refused = results.filter((result) => result.status === 'rejected');
    assert.equal(posted.length, 10);
    for (const result of refused) assert.equal((result as PromiseRejectedResult).reason.type, 'insufficient_funds');
    assert.equal(await balanceOf(alice), 0n);
  });

  it('answers concurrent attempts of the same leg with one posting', async () => {
    const alice = await userWith(500n);
    const debit = leg(alice, 100n);
    const results = await Promise.all(Array.from({ length: 10 }, () => run(activities.debitWallet, debit)));
    assert.ok(results.every((result) => result.balanceAfterMinor === '400'));
    assert.equal(await balanceOf(alice), 400n);
  });

  it('keeps a refusal final: the same leg stays refused after funds arrive', async () => {
    const alice = await userWith(50n);
    const debit = leg(alice, 100n);
    await assert.rejects(run(activities.debitWallet, debit), { type: 'insufficient_funds' });
    await run(activities.creditWallet, leg(alice, 500n, 'settlement'));
    await assert.rejects(run(activities.debitWallet, debit), { type: 'insufficient_funds' });
    assert.equal(await balanceOf(alice), 550n);
  });

  it('fences a debit that never ran, so a late attempt cannot post it', async () => {
    const alice = await userWith(1_000n);
    const debit = leg(alice, 100n);
    assert.deepEqual(await run(activities.fenceDebit, debit), { outcome: 'voided', reason: 'ledger_unavailable' });
    await assert.rejects(run(activities.debitWallet, debit), { type: 'ledger_unavailable' });
    assert.deepEqual(await run(activities.fenceDebit, debit), { outcome: 'voided', reason: 'ledger_unavailable' });
    assert.equal(await balanceOf(alice), 1_000n);
  });

  it('answers posted for a fenced debit that had already posted, and moves nothing', async () => {
    const alice = await userWith(1_000n);
    const debit = leg(alice, 100n);
    await run(activities.debitWallet, debit);
    assert.deepEqual(await run(activities.fenceDebit, debit), { outcome: 'posted', reason: null });
    assert.equal(await balanceOf(alice), 900n);
    assert.deepEqual(await postingsOf(fixture.shards, debit.transferId), [
      { leg: 'debit', outcome: 'posted', entries: 2 },
    ]);
  });

  it('rolls a leg back when its transfer record is already final in another state', async () => {
    const alice = await userWith(1_000n);
    const bob = await userWith(0n, 0);
    const transferId = uniqueName('tr');
    const pool = fixture.shards.pool(0);
    await pool.query(
      `insert into transfers (transfer_id, kind, owner_user_id, from_user_id, to_user_id, amount, currency, idempotency_key, request_hash, status, failure_reason)
       values ($1, 'transfer', $2, $2, $3, 100, 'USD', $1, 'h', 'FAILED', 'user_frozen')`,
      [transferId, alice, bob],
    );
    const credit = {
      ...leg(bob, 100n, 'clearing', transferId),
      finish: { ownerUserId: alice, ifPosted: { status: 'COMPLETED' as const, failureReason: null } },
    };
    await assert.rejects(run(activities.creditWallet, credit), { type: 'transfer_state_conflict' });
    assert.equal(await balanceOf(bob), 0n);
    assert.deepEqual(await postingsOf(fixture.shards, transferId), []);
  });

  it('posts no debit while its transfer is held for review, or after it ended', async () => {
    const alice = await userWith(1_000n);
    const bob = await userWith(0n, 0);
    for (const [status, reason] of [
      ['PENDING_REVIEW', null],
      ['FAILED', 'review_rejected'],
    ] as const) {
      const transferId = uniqueName('tr');
      await fixture.shards.pool(0).query(
        `insert into transfers (transfer_id, kind, owner_user_id, from_user_id, to_user_id, amount, currency, idempotency_key, request_hash, status, failure_reason, approvals_required)
         values ($1, 'transfer', $2, $2, $3, 100, 'USD', $1, 'h', $4, $5, 1)`,
        [transferId, alice, bob, status, reason],
      );
      await assert.rejects(run(activities.debitWallet, leg(alice, 100n, 'clearing', transferId)), {
        type: 'transfer_state_conflict',
      });
      assert.deepEqual(await postingsOf(fixture.shards, transferId), []);
    }
    assert.equal(await balanceOf(alice), 1_000n);
  });

  it('refunds a posted debit once, even to a frozen wallet', async () => {
    const alice = await userWith(1_000n);
    const debit = leg(alice, 250n);
    await run(activities.debitWallet, debit);
    await fixture.shards.withTransaction(0, (client) =>
      setFrozen(client, { userId: alice, frozen: true, operator: 'ops-test', reason: null }),
    );
    assert.deepEqual(await run(activities.refundDebit, { ...debit, failureReason: 'ledger_unavailable' }), {
      refunded: true,
    });
    assert.deepEqual(await run(activities.refundDebit, { ...debit, failureReason: 'ledger_unavailable' }), {
      refunded: true,
    });
    assert.equal(await balanceOf(alice), 1_000n);
    assert.deepEqual(
      (await postingsOf(fixture.shards, debit.transferId)).map((posting) => posting.leg),
      ['debit', 'refund'],
    );
  });

  it('refuses credits to frozen and unknown users', async () => {
    const bob = await userWith(0n, 1);
    await fixture.shards.withTransaction(1, (client) =>
      setFrozen(client, { userId: bob, frozen: true, operator: 'ops-test', reason: null }),
    );
    await assert.rejects(run(activities.creditWallet, leg(bob, 100n)), { type: 'user_frozen' });
    await assert.rejects(run(activities.creditWallet, leg('nobody_here', 100n)), { type: 'unknown_user' });
  });

  it('conserves money across shards through the clearing accounts', async () => {
    const before = await ledgerTotals(fixture.shards, 'USD');
    const alice = await userWith(0n, 0);
    const bob = await userWith(0n, 1);
    await run(activities.creditWallet, leg(alice, 1_000n, 'settlement'));
    const transferId = uniqueName('tr');
    await run(activities.debitWallet, leg(alice, 400n, 'clearing', transferId));
    const inFlight = await ledgerTotals(fixture.shards, 'USD');
    assert.equal(inFlight.clearing - before.clearing, 400n);
    await run(activities.creditWallet, leg(bob, 400n, 'clearing', transferId));
    const after = await ledgerTotals(fixture.shards, 'USD');
    assert.equal(after.clearing, before.clearing);
    assert.equal(after.customer + after.clearing + after.settlement, 0n);
    assert.equal(await balanceOf(bob), 400n);
  });

  it('refuses to rewrite or delete ledger history', async () => {
    const alice = await userWith(100n);
    const pool = fixture.shards.pool(0);
    await assert.rejects(
      pool.query(`update entries set amount = amount * 2 where account_id = $1`, [`customer:${alice}:USD`]),
      /append-only/,
    );
    await assert.rejects(
      pool.query(`delete from entries where account_id = $1`, [`customer:${alice}:USD`]),
      /append-only/,
    );
    await assert.rejects(pool.query(`update postings set outcome = 'voided'`), /append-only/);
    await assert.rejects(pool.query(`truncate entries cascade`), /append-only/);
  });

  it('refuses an unbalanced posting when its transaction commits', async () => {
    const alice = await userWith(100n);
    const transferId = uniqueName('tr');
    await assert.rejects(
      fixture.shards.withTransaction(0, async (client) => {
        await client.query(
          `insert into postings (transfer_id, leg, outcome, workflow_id, run_id) values ($1, 'debit', 'posted', 'w', 'r')`,
          [transferId],
        );
        await client.query(
          `insert into entries (transfer_id, leg, account_id, currency, amount, balance_after, kind, workflow_id, run_id)
           values ($1, 'debit', $2, 'USD', -10, 90, 'transfer_out', 'w', 'r')`,
          [transferId, `customer:${alice}:USD`],
        );
      }),
      /unbalanced/,
    );
  });
});

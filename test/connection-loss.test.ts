import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serverUrlOf, terminateWalletConnections } from '../db/admin';
import { databaseOf } from '../db/throwaway-databases';
import { driftedAccounts, ledgerTotals, userOnShard } from './support/ledger';
import { uniqueName } from './support/temporal';
import { fundUsers, startWalletProcess, type WalletProcess } from './support/wallet-process';

const users_per_shard = 5;
const deposit_minor = 100_000;
const transfer_count = 200;
/** Transfers go out in waves, so connections are cut while some are being recorded and others are mid-leg. */
const wave_count = 8;
const wave_gap_ms = 400;
const cut_every_ms = 150;

/**
 * Issue 9: a PostgreSQL connection lost under load (a restart, a failover, pg_terminate_backend)
 * crashed the wallet on an unhandled `error` event of a checked-out pg client. A lost connection
 * must cost a retry, never the process.
 */
describe('connections cut under load', () => {
  let wallet: WalletProcess;
  before(async () => {
    // Enough debit attempts that a debit cut again and again still gets through: the test is about the process, not the retry budget.
    wallet = await startWalletProcess({ DEBIT_ATTEMPTS_MAX: '50' });
  });
  after(async () => {
    await wallet.stop();
  });

  it('keeps the wallet process up, and every transfer completes with money conserved', async (t) => {
    const users: string[] = [];
    for (let shard = 0; shard < wallet.shards.count; shard++) {
      for (let index = 0; index < users_per_shard; index++)
        users.push(userOnShard(wallet.shards, shard, `cut${shard}`));
    }
    const ops = { as: 'ops_console', role: 'ops' as const };
    await fundUsers(wallet, users, deposit_minor);
    // Ops actions run in a transaction on a checked-out client: a cut there reaches the client itself, not the pool.
    const bystanders = Array.from({ length: wallet.shards.count }, (_, shard) =>
      userOnShard(wallet.shards, shard, `bystander${shard}`),
    );
    for (const user of bystanders)
      assert.equal((await wallet.call('POST', '/v1/wallet/users', { ...ops, body: { user_id: user } })).status, 201);
    const databases = wallet.urls.map(databaseOf);
    const server = serverUrlOf(wallet.urls[0]!);

    let cutting = true;
    const cuts: number[] = [];
    const cutter = (async () => {
      while (cutting) {
        cuts.push(await terminateWalletConnections(server, databases));
        await new Promise((resolve) => setTimeout(resolve, cut_every_ms));
      }
    })();

    const opsAnswers = new Map<number, number>();
    const opsLoops = bystanders.map(async (user) => {
      for (let round = 0; cutting; round++) {
        const action = round % 2 === 0 ? 'freeze' : 'unfreeze';
        const answer = await wallet
          .call('POST', `/v1/ops/users/${user}/${action}`, { ...ops, body: { reason: 'connection test' } })
          .catch(() => ({ status: 0 }));
        opsAnswers.set(answer.status, (opsAnswers.get(answer.status) ?? 0) + 1);
      }
    });

    const transferIds: string[] = [];
    try {
      for (let wave = 0; wave < wave_count; wave++) {
        const sent = await Promise.all(
          Array.from({ length: transfer_count / wave_count }, async (_, index) => {
            const from = users[(wave * 7 + index) % users.length]!;
            const to = users[(wave * 3 + index * 5 + 1) % users.length]!;
            const recipient = to === from ? users[(users.indexOf(from) + 1) % users.length]! : to;
            const body = {
              from_user_id: from,
              to_user_id: recipient,
              amount: 1 + index,
              currency: 'USD',
              idempotency_key: uniqueName('cut'),
            };
            const answer = await wallet.callUntilAnswered('POST', '/v1/wallet/transfers', { as: from, body });
            assert.equal(answer.status, 202, JSON.stringify(answer.body));
            return answer.body.transfer_id as string;
          }),
        );
        transferIds.push(...sent);
        await new Promise((resolve) => setTimeout(resolve, wave_gap_ms));
      }
      // Keep cutting while the last wave's legs run.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      cutting = false;
      await cutter;
      await Promise.all(opsLoops);
    }
    t.diagnostic(
      `${cuts.reduce((sum, count) => sum + count, 0)} connections cut in ${cuts.filter((count) => count > 0).length} rounds; ops answers by status: ${JSON.stringify(Object.fromEntries(opsAnswers))}`,
    );
    assert.ok(wallet.alive(), 'the wallet process died while its connections were cut');
    // Some ops actions lost their connection (503, retryable); none brought the process down.
    assert.deepEqual(
      [...opsAnswers.keys()].filter((status) => status !== 200 && status !== 503),
      [],
    );
    assert.ok(
      cuts.filter((count) => count > 0).length >= 10,
      `connections were cut only ${cuts.filter((count) => count > 0).length} times`,
    );

    const statuses = new Map<string, number>();
    for (const transferId of transferIds) {
      const until = Date.now() + 60_000;
      let status = 'PENDING';
      while (status === 'PENDING' && Date.now() < until) {
        const answer = await wallet.callUntilAnswered('GET', `/v1/wallet/transfers/${transferId}?wait=30`, ops);
        status = answer.body.status;
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(statuses), { COMPLETED: transfer_count });
    assert.ok(wallet.alive(), 'the wallet process died');
    // Each lost connection was logged by the handler that kept the process up.
    assert.match(wallet.output.join(''), /PostgreSQL connection lost/);

    const totals = await ledgerTotals(wallet.shards, 'USD');
    assert.equal(totals.customer, BigInt(users.length * deposit_minor));
    assert.equal(totals.clearing, 0n);
    assert.equal(totals.customer + totals.clearing + totals.settlement + totals.fx, 0n);
    assert.deepEqual(await driftedAccounts(wallet.shards), []);
  });
});

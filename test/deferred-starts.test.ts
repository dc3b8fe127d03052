import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { driftedAccounts, ledgerTotals, userOnShard } from './support/ledger';
import { connectTemporal, uniqueName } from './support/temporal';
import { fundUsers, startWalletProcess, type WalletProcess } from './support/wallet-process';

const deposit_minor = 100_000;
/** One running transfer at a time: every other transfer of a burst has its start deferred. */
const window_of_one = { TRANSFER_START_WINDOW: '1' };

/**
 * Issue 18: past TRANSFER_START_WINDOW unfinished transfers, a wallet process only records a
 * transfer and answers 202; the start pacer (temporal-client/start-pacer.ts) starts it when a
 * place frees. A deferred transfer completes; one whose process dies before starting it is an
 * orphan, started by the sweeper of the next process.
 */
async function fundedUsers(wallet: WalletProcess, count: number): Promise<string[]> {
  const users = Array.from({ length: count }, (_, index) => userOnShard(wallet.shards, index % 4, `payer${index}`));
  await fundUsers(wallet, users, deposit_minor);
  return users;
}

/** Sends `count` transfers among `users` at once; every one must be accepted. */
async function burstOf(wallet: WalletProcess, users: string[], count: number, waitS?: number) {
  const answers = await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const from = users[index % users.length]!;
      const body = {
        from_user_id: from,
        to_user_id: users[(index + 1) % users.length],
        amount: 10,
        currency: 'USD',
        idempotency_key: uniqueName('deferred'),
      };
      const path = `/v1/wallet/transfers${waitS === undefined ? '' : `?wait=${waitS}`}`;
      return { from, ...(await wallet.call('POST', path, { as: from, body })) };
    }),
  );
  const refused = answers.find((answer) => answer.status !== 202 && answer.status !== 200);
  assert.equal(refused, undefined, JSON.stringify(refused?.body));
  return answers.map((answer) => ({ from: answer.from, transferId: answer.body.transfer_id as string }));
}

/** Reads each transfer (with ?wait) until it is final or the deadline passes. */
async function finalStatuses(wallet: WalletProcess, transfers: { from: string; transferId: string }[]) {
  return Promise.all(
    transfers.map(async ({ from, transferId }) => {
      for (const until = Date.now() + 90_000; ;) {
        const read = await wallet.callUntilAnswered('GET', `/v1/wallet/transfers/${transferId}?wait=10`, { as: from });
        if ((read.body.status !== 'PENDING' && read.body.status !== undefined) || Date.now() > until)
          return read.body.status as string;
      }
    }),
  );
}

async function deferredCount(wallet: WalletProcess): Promise<number> {
  const text = await fetch(`${wallet.baseUrl}/metrics`).then((response) => response.text());
  const line = /^wallet_transfer_starts_deferred_total (\d+)/m.exec(text);
  assert.ok(line, 'wallet_transfer_starts_deferred_total is published');
  return Number(line[1]);
}

describe('deferred transfer starts', () => {
  let wallet: WalletProcess;
  let users: string[];
  before(async () => {
    wallet = await startWalletProcess(window_of_one);
    users = await fundedUsers(wallet, 4);
  });
  after(async () => {
    await wallet.stop();
  });

  it('a burst past the window is recorded at once and every deferred transfer completes, `?wait` ones within their wait', async (t) => {
    const deferredBefore = await deferredCount(wallet);
    const [queued, waiting] = await Promise.all([burstOf(wallet, users, 20), burstOf(wallet, users, 4, 30)]);
    const deferred = (await deferredCount(wallet)) - deferredBefore;
    t.diagnostic(`${deferred} of 24 starts deferred`);
    assert.ok(deferred > 0, 'with a window of one, a burst defers starts');
    assert.deepEqual(
      (await finalStatuses(wallet, [...queued, ...waiting])).filter((status) => status !== 'COMPLETED'),
      [],
    );
    assert.deepEqual(await driftedAccounts(wallet.shards), []);
    assert.equal((await ledgerTotals(wallet.shards, 'USD')).clearing, 0n);
  });
});

describe('deferred transfer starts when the process dies', () => {
  let wallet: WalletProcess;
  let successor: WalletProcess | undefined;
  let users: string[];
  before(async () => {
    wallet = await startWalletProcess(window_of_one);
    users = await fundedUsers(wallet, 4);
  });
  after(async () => {
    await successor?.stop();
    await wallet.stop();
  });

  it('a transfer recorded but not yet started when its process is killed is started by the next sweep', async (t) => {
    const transfers = await burstOf(wallet, users, 30);
    await wallet.kill();

    // Which transfers have no workflow: their start was still deferred when the process died.
    const temporal = await connectTemporal();
    const unstarted: string[] = [];
    try {
      for (const { transferId } of transfers) {
        const described = await temporal.client.workflow
          .getHandle(transferId)
          .describe()
          .then(
            () => true,
            (error: unknown) => {
              if (error instanceof WorkflowNotFoundError) return false;
              throw error;
            },
          );
        if (!described) unstarted.push(transferId);
      }
    } finally {
      await temporal.close();
    }
    t.diagnostic(`${unstarted.length} of ${transfers.length} transfers had no workflow when the process died`);
    assert.ok(unstarted.length > 0, 'the kill came while starts were deferred');

    // The next process on the same shards and task queue sweeps them up (an orphan: old enough, no workflow).
    successor = await startWalletProcess(
      {
        ...window_of_one,
        TEMPORAL_TASK_QUEUE: wallet.taskQueue,
        ORPHAN_AGE_MIN_MS: '1000',
        ORPHAN_SWEEP_INTERVAL_MS: '500',
      },
      wallet.fixture,
    );
    assert.deepEqual(
      (await finalStatuses(successor, transfers)).filter((status) => status !== 'COMPLETED'),
      [],
    );
    assert.match(successor.output.join(''), /started the workflow of an orphaned transfer record/);
    assert.deepEqual(await driftedAccounts(successor.shards), []);
    assert.equal((await ledgerTotals(successor.shards, 'USD')).clearing, 0n);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import pino from 'pino';
import { createActivities } from '../activities';
import { requestHashOf, transferIdFor } from '../domain/transfer-ids';
import { registerTransfer } from '../ledger/transfers';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { findTransfer } from '../ledger/transfers';
import { heldBy, startTransferWorkflow, transferOf } from '../temporal-client/start-transfer';
import { runOrphanSweeper, sweepOrphanedTransfers, type SweepDependencies } from '../workers/orphan-sweeper';
import { spawnTs } from '../supervisor/children';
import { driftedAccounts, postingsOf, userOnShard } from './support/ledger';
import { startTestStack, test_limits, test_timings, type TestStack } from './support/stack';
import { temporalAddress, uniqueName } from './support/temporal';
import { walletMetrics } from '../metrics/wallet-metrics';

/** A sweep that found nothing to do; each test names what it expects otherwise. */
const nothing_swept = { running: 0, deferred: 0, orphans: 0, rerun: 0, finished: 0, failing: [], errors: 0 };

/** Crashes between committing and reporting, and a worker killed in the middle of a transfer. */
describe('recovery', () => {
  describe('an activity that commits and then fails before reporting', () => {
    let stack: TestStack;
    const crashed: string[] = [];
    before(async () => {
      stack = await startTestStack({ withWorker: false });
      const real = createActivities({ shards: stack.shards, logger: pino({ level: 'silent' }) });
      // The first attempt of each leg commits its transaction, then "crashes" before Temporal hears of it.
      const crashAfterCommit = <F extends (input: never) => Promise<unknown>>(name: string, activity: F) =>
        (async (input: Parameters<F>[0]) => {
          const result = await activity(input);
          if (Context.current().info.attempt === 1) {
            crashed.push(name);
            throw new Error(`simulated crash after ${name} committed`);
          }
          return result;
        }) as F;
      await stack.startWorker({
        ...real,
        debitWallet: crashAfterCommit('debit', real.debitWallet),
        creditWallet: crashAfterCommit('credit', real.creditWallet),
      });
    });
    after(async () => {
      assert.deepEqual(await driftedAccounts(stack.shards), []);
      await stack.stop();
    });

    it('is retried without a second posting', async () => {
      const alice = userOnShard(stack.shards, 0, 'alice');
      const bob = userOnShard(stack.shards, 1, 'bob');
      await stack.api.createUser(alice);
      await stack.api.createUser(bob);
      assert.equal((await stack.api.deposit(alice, 1_000)).body.status, 'COMPLETED');
      const sent = await stack.api.transfer(alice, bob, 400);
      assert.equal(sent.body.status, 'COMPLETED');
      assert.deepEqual(crashed, ['credit', 'debit', 'credit']);
      assert.equal(await stack.api.balance(alice), 600);
      assert.equal(await stack.api.balance(bob), 400);
      assert.deepEqual(
        (await postingsOf(stack.shards, sent.body.transfer_id)).map((posting) => `${posting.leg}:${posting.entries}`),
        ['credit:2', 'debit:2'],
      );
    });
  });

  describe('an API that died after recording a transfer but before starting its workflow', () => {
    let stack: TestStack;
    before(async () => {
      stack = await startTestStack();
    });
    after(async () => {
      await stack.stop();
    });

    /** Two users on the given shards, the sender funded, and a transfer recorded exactly as the API records it, then no workflow. */
    async function recordedWithoutWorkflow(
      shards: [number, number],
      amount: number,
      key: string,
      approvalsRequired: 0 | 1 = 0,
    ) {
      const sender = userOnShard(stack.shards, shards[0], 'sender');
      const recipient = userOnShard(stack.shards, shards[1], 'recipient');
      await stack.api.createUser(sender);
      await stack.api.createUser(recipient);
      assert.equal((await stack.api.deposit(sender, 1_000 + amount)).body.status, 'COMPLETED');
      const request = {
        kind: 'transfer' as const,
        fromUserId: sender,
        toUserId: recipient,
        amountMinor: BigInt(amount),
        currency: 'USD',
        note: null,
      };
      const transferId = transferIdFor('transfer', sender, key);
      const record = {
        ...request,
        transferId,
        ownerUserId: sender,
        idempotencyKey: key,
        requestHash: requestHashOf(request),
        approvalsRequired,
        opsOperator: null,
      };
      await registerTransfer(stack.shards.pool(shards[0]), record);
      return { sender, recipient, transferId };
    }

    it('is picked up by the orphan sweeper, once', async () => {
      const { sender: alice, recipient: bob, transferId } = await recordedWithoutWorkflow([1, 2], 300, 'lost-1');
      const sweep = () => sweepOrphanedTransfers(sweepDeps());
      assert.equal((await sweep()).orphans, 1);
      assert.equal((await stack.client.workflow.getHandle(transferId).result()).status, 'COMPLETED');
      assert.deepEqual(await sweep(), nothing_swept);
      assert.equal(await stack.api.balance(bob), 300);
      assert.equal(await stack.api.balance(alice), 1_000);
    });

    it('leaves running workflows alone, reruns ended ones, and reports a transfer whose runs keep failing', async () => {
      const limits = { ...test_limits, reviewThresholdMinor: 1_000n };
      // Held for review: its record stays PENDING_REVIEW while its workflow waits. Not an orphan.
      const { transferId } = await recordedWithoutWorkflow([3, 0], 2_000, 'held-1', 1);
      const failedRuns = new Map<string, number>();
      const sweep = () =>
        sweepOrphanedTransfers(
          { ...sweepDeps(), timings: { ...test_timings, reviewTimeoutMs: 120_000 }, limits },
          failedRuns,
        );
      assert.deepEqual(await sweep(), { ...nothing_swept, orphans: 1 });
      for (let sweeps = 0; sweeps < 3; sweeps++) assert.deepEqual(await sweep(), { ...nothing_swept, running: 1 });
      // Its run ends without finishing it (as a failed or terminated run would), sweep after sweep.
      const reports = [];
      for (let failures = 1; failures <= 3; failures++) {
        await stack.client.workflow.getHandle(transferId).terminate('test: the run failed');
        reports.push(await sweep());
      }
      assert.deepEqual(
        reports.map((report) => [report.rerun, report.failing]),
        [
          [1, []],
          [1, []],
          [1, [transferId]],
        ],
      );
      const metrics = await walletMetrics().transfersFailingReruns.get();
      assert.equal(metrics.values[0]?.value, 1);
      // Once it runs again and is decided, it is no longer reported.
      const approved = await stack.api.call('POST', `/v1/ops/transfers/${transferId}/approve`, {
        as: 'ops_recovery',
        role: 'ops',
        body: { reason: 'checked' },
      });
      assert.equal(approved.body.status, 'COMPLETED', JSON.stringify(approved.body));
      assert.deepEqual(await sweep(), nothing_swept);
      assert.equal(failedRuns.size, 0);
    });

    /** The sweeper's dependencies on this stack; given `describe`, its client's describe is the test's. */
    function sweepDeps(
      describe?: (
        workflowId: string,
        real: () => Promise<WorkflowExecutionDescription>,
      ) => Promise<WorkflowExecutionDescription>,
    ): SweepDependencies {
      const workflow = stack.client.workflow;
      const client = describe
        ? ({
            workflow: {
              start: workflow.start.bind(workflow),
              getHandle: (workflowId: string) => ({
                describe: () => describe(workflowId, () => workflow.getHandle(workflowId).describe()),
              }),
            },
          } as unknown as Client)
        : stack.client;
      return {
        shards: stack.shards,
        client,
        taskQueue: stack.taskQueue,
        timings: test_timings,
        limits: test_limits,
        logger: pino({ level: 'silent' }),
        metrics: walletMetrics(),
        orphanAgeMinMs: 0,
      };
    }

    it('raises no alarm for a transfer whose workflow finished it between the read of its record and the describe', async () => {
      const { recipient, transferId } = await recordedWithoutWorkflow([1, 3], 100, 'race-1');
      const pool = stack.shards.pool(1);
      // The race, made certain: the sweep's describe first lets the transfer run to its end.
      const deps = sweepDeps(async (workflowId, real) => {
        const record = (await findTransfer(pool, workflowId))!;
        await startTransferWorkflow(sweepDeps(), transferOf(record), heldBy(record));
        await stack.client.workflow.getHandle(workflowId).result();
        return real();
      });
      assert.deepEqual(await sweepOrphanedTransfers(deps), { ...nothing_swept, finished: 1 });
      assert.equal((await findTransfer(pool, transferId))?.status, 'COMPLETED');
      assert.equal(await stack.api.balance(recipient), 100);
    });

    it('finishes a sweep past a transfer it cannot describe, and counts the error', async () => {
      const lost = [];
      for (const key of ['lost-a', 'lost-b', 'lost-c']) lost.push(await recordedWithoutWorkflow([2, 0], 50, key));
      const unreadable = lost[1]!.transferId;
      const errorsBefore = (await walletMetrics().orphanSweepErrors.get()).values[0]?.value ?? 0;
      const failedRuns = new Map([[unreadable, 2]]);
      const report = await sweepOrphanedTransfers(
        sweepDeps(async (workflowId, real) => {
          if (workflowId === unreadable) throw new Error('test: the frontend hiccuped');
          return real();
        }),
        failedRuns,
      );
      assert.deepEqual(report, { ...nothing_swept, orphans: 2, errors: 1 });
      assert.equal((await walletMetrics().orphanSweepErrors.get()).values[0]?.value, errorsBefore + 1);
      // Not looked at, so its count of failed runs is neither reset nor raised.
      assert.deepEqual([...failedRuns], [[unreadable, 2]]);
      for (const { transferId } of [lost[0]!, lost[2]!])
        assert.equal((await stack.client.workflow.getHandle(transferId).result()).status, 'COMPLETED');
      // The next sweep, with Temporal answering again, picks it up.
      assert.equal((await sweepOrphanedTransfers(sweepDeps())).orphans, 1);
      assert.equal((await stack.client.workflow.getHandle(unreadable).result()).status, 'COMPLETED');
    });

    it('never runs two sweeps at once, in one process or across wallet processes', async () => {
      const sweeps = { running: 0, runningMax: 0, done: 0 };
      const slowSweep = async () => {
        sweeps.running++;
        sweeps.runningMax = Math.max(sweeps.runningMax, sweeps.running);
        await sleep(150);
        sweeps.running--;
        sweeps.done++;
      };
      // Two sweepers, as two wallet processes run them, ticking far faster than a sweep lasts.
      const stops = [0, 1].map(() => runOrphanSweeper(sweepDeps(), 10, slowSweep));
      await sleep(1_000);
      await Promise.all(stops.map((stop) => stop()));
      assert.equal(sweeps.runningMax, 1);
      assert.ok(sweeps.done >= 3, `only ${sweeps.done} sweeps ran`);
      assert.equal(sweeps.running, 0);
    });
  });

  describe('a worker killed mid-transfer', () => {
    let stack: TestStack;
    before(async () => {
      stack = await startTestStack({ withWorker: false });
    });
    after(async () => {
      assert.deepEqual(await driftedAccounts(stack.shards), []);
      await stack.stop();
    });

    it('finishes the transfer once a worker is back', async () => {
      const alice = userOnShard(stack.shards, 2, 'alice');
      const bob = userOnShard(stack.shards, 3, 'bob');
      await stack.api.createUser(alice);
      await stack.api.createUser(bob);

      // A real worker process, as `npm run worker` starts it, on this test's task queue and shards.
      const workerProcess = spawnTs(['app/main.ts', 'worker'], {
        ...process.env,
        TEMPORAL_ADDRESS: temporalAddress(),
        TEMPORAL_TASK_QUEUE: stack.taskQueue,
        SHARD_URLS: stack.urls.join(','),
        LOG_LEVEL: 'silent',
      });
      const exited = new Promise((resolve) => workerProcess.once('exit', resolve));
      try {
        assert.equal((await stack.api.deposit(alice, 1_000)).body.status, 'COMPLETED');

        // Hold bob's user row so the credit blocks after the debit has committed.
        const blocker = await stack.shards.pool(3).connect();
        await blocker.query('begin');
        await blocker.query('select 1 from users where user_id = $1 for update', [bob]);
        const accepted = await stack.api.transfer(alice, bob, 250, uniqueName('k'), 0);
        assert.equal(accepted.status, 202);
        await waitUntil(async () =>
          (await postingsOf(stack.shards, accepted.body.transfer_id)).some((posting) => posting.leg === 'debit'),
        );

        workerProcess.kill('SIGKILL');
        await exited;
        await blocker.query('rollback');
        blocker.release();

        const state = await stack.client.workflow.getHandle(accepted.body.transfer_id).describe();
        assert.equal(state.status.name, 'RUNNING');
        await stack.startWorker();
        const outcome = await stack.client.workflow.getHandle(accepted.body.transfer_id).result();
        assert.equal(outcome.status, 'COMPLETED');
        assert.equal(await stack.api.balance(alice), 750);
        assert.equal(await stack.api.balance(bob), 250);
        assert.deepEqual(
          (await postingsOf(stack.shards, accepted.body.transfer_id)).map(
            (posting) => `${posting.leg}:${posting.entries}`,
          ),
          ['credit:2', 'debit:2'],
        );
      } finally {
        workerProcess.kill('SIGKILL');
      }
    });
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

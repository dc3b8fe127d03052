import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { RefundInput, WalletActivities } from '../activities';
import type { LegInput } from '../domain/transfer-legs';
import type { TransferRequest } from '../domain/transfers';
import type { TransferTimings } from '../workflows/activity-options';
import { statusQuery } from '../workflows/messages';
import { transferWorkflow } from '../workflows/transfer';
import { connectTemporal, test_data_converter, uniqueName, workflowBundle } from './support/temporal';

/** Workflow logic with plain-object activities; the Temporal server is real. */

type Calls = string[];
const timings = { activityTimeoutMs: 2_000, debitAttemptsMax: 3, retryIntervalMaxMs: 50 };

/** Records each call as `leg` (with the finish plan it was given in `plans`), refunds as `refund:reason`. */
function stubActivities(
  calls: Calls,
  overrides: Partial<Record<keyof WalletActivities, (input: never) => Promise<unknown>>>,
  plans: Record<string, unknown> = {},
) {
  const record = (name: string) => (input: LegInput) => {
    calls.push(name);
    plans[name] = input.finish;
  };
  return {
    async debitWallet(input: LegInput) {
      record('debit')(input);
      if (overrides.debitWallet) return overrides.debitWallet(input as never);
      return { balanceAfterMinor: '0' };
    },
    async creditWallet(input: LegInput) {
      record('credit')(input);
      if (overrides.creditWallet) return overrides.creditWallet(input as never);
      return { balanceAfterMinor: '100' };
    },
    async fenceDebit(input: LegInput) {
      record('fence')(input);
      if (overrides.fenceDebit) return overrides.fenceDebit(input as never);
      return { outcome: 'voided', reason: 'ledger_unavailable' };
    },
    async refundDebit(input: RefundInput) {
      record(`refund:${input.failureReason}`)(input);
      if (overrides.refundDebit) return overrides.refundDebit(input as never);
      return { refunded: true };
    },
  };
}

function request(kind: TransferRequest['kind'] = 'transfer'): TransferRequest {
  return {
    transferId: uniqueName('tr'),
    kind,
    fromUserId: kind === 'deposit' ? null : 'alice',
    toUserId: kind === 'withdrawal' ? null : 'bob',
    amountMinor: '100',
    currency: 'USD',
    note: null,
  };
}

describe('transferWorkflow', () => {
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  before(async () => {
    temporal = await connectTemporal();
  });
  after(async () => {
    await temporal.close();
  });

  /** A worker for one test on a task queue of its own, with the given stub activities. */
  async function testWorker(taskQueue: string, activities: object): Promise<Worker> {
    return Worker.create({
      connection: temporal.nativeConnection,
      dataConverter: test_data_converter,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
    });
  }

  async function runTransfer(transfer: TransferRequest, activities: object, runTimings: TransferTimings = timings) {
    const taskQueue = uniqueName('wf-test');
    const worker = await testWorker(taskQueue, activities);
    return worker.runUntil(async () => {
      const handle = await temporal.client.workflow.start(transferWorkflow, {
        taskQueue,
        workflowId: transfer.transferId,
        args: [{ request: transfer, timings: runTimings }],
        workflowRunTimeout: '60s',
      });
      const outcome = await handle.result();
      const state = await handle.query(statusQuery);
      return { outcome, state };
    });
  }

  it('debits, credits and completes', async () => {
    const calls: Calls = [];
    const { outcome, state } = await runTransfer(request(), stubActivities(calls, {}));
    assert.deepEqual(outcome, { status: 'COMPLETED', failureReason: null });
    assert.deepEqual(calls, ['debit', 'credit']);
    assert.equal(state.step, 'done');
  });

  it('refunds the sender when the credit is refused after the debit', async () => {
    const calls: Calls = [];
    const refuse = async () => {
      throw ApplicationFailure.create({ type: 'user_frozen', nonRetryable: true });
    };
    const { outcome, state } = await runTransfer(request(), stubActivities(calls, { creditWallet: refuse }));
    assert.deepEqual(outcome, { status: 'FAILED', failureReason: 'user_frozen' });
    assert.deepEqual(calls, ['debit', 'credit', 'refund:user_frozen']);
    assert.equal(state.compensated, true);
  });

  it('never credits when the debit is refused', async () => {
    const calls: Calls = [];
    const refuse = async () => {
      throw ApplicationFailure.create({ type: 'insufficient_funds', nonRetryable: true });
    };
    const { outcome } = await runTransfer(request(), stubActivities(calls, { debitWallet: refuse }));
    assert.deepEqual(outcome, { status: 'FAILED', failureReason: 'insufficient_funds' });
    // The refusal was recorded, and the record finished, in the debit's own transaction.
    assert.deepEqual(calls, ['debit']);
  });

  it('fences the debit and fails as ledger_unavailable when debit retries run out', async () => {
    const calls: Calls = [];
    const shardDown = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    const { outcome } = await runTransfer(request(), stubActivities(calls, { debitWallet: shardDown }));
    assert.deepEqual(outcome, { status: 'FAILED', failureReason: 'ledger_unavailable' });
    assert.deepEqual(calls, ['debit', 'debit', 'debit', 'fence']);
  });

  const shardBusy = async () => {
    throw ApplicationFailure.create({ type: 'shard_busy', message: 'lock timeout', nonRetryable: true });
  };

  it("waits out a busy shard without spending the debit's attempts, then completes", async () => {
    const calls: Calls = [];
    let busyLeft = timings.debitAttemptsMax * 2;
    const busyThenPosts = async () => (busyLeft-- > 0 ? shardBusy() : { balanceAfterMinor: '0' });
    const { outcome } = await runTransfer(request(), stubActivities(calls, { debitWallet: busyThenPosts }));
    assert.deepEqual(outcome, { status: 'COMPLETED', failureReason: null });
    assert.deepEqual(calls, [...Array(timings.debitAttemptsMax * 2 + 1).fill('debit'), 'credit']);
  });

  it('fences the debit and fails as ledger_unavailable when the shard stays busy past DEBIT_BUSY_WAIT_MAX', async () => {
    const calls: Calls = [];
    const { outcome } = await runTransfer(request(), stubActivities(calls, { debitWallet: shardBusy }), {
      ...timings,
      debitBusyWaitMaxMs: 500,
    });
    assert.deepEqual(outcome, { status: 'FAILED', failureReason: 'ledger_unavailable' });
    assert.equal(calls.at(-1), 'fence');
    assert.ok(calls.length > 2, JSON.stringify(calls));
  });

  it('carries on to the credit when a debit of unknown fate turns out to have posted', async () => {
    const calls: Calls = [];
    const lostReply = async () => {
      throw new Error('connection reset after commit');
    };
    const posted = async () => ({ outcome: 'posted', reason: null });
    const { outcome } = await runTransfer(
      request(),
      stubActivities(calls, { debitWallet: lostReply, fenceDebit: posted }),
    );
    assert.deepEqual(outcome, { status: 'COMPLETED', failureReason: null });
    // Never refunded on a guess: the money that left the sender arrives.
    assert.deepEqual(calls, ['debit', 'debit', 'debit', 'fence', 'credit']);
  });

  it('reports the reason the ledger recorded when a late debit attempt was refused', async () => {
    const calls: Calls = [];
    const timeout = async () => {
      throw new Error('statement timeout');
    };
    const refusedLate = async () => ({ outcome: 'refused', reason: 'insufficient_funds' });
    const { outcome } = await runTransfer(
      request(),
      stubActivities(calls, { debitWallet: timeout, fenceDebit: refusedLate }),
    );
    assert.deepEqual(outcome, { status: 'FAILED', failureReason: 'insufficient_funds' });
    assert.deepEqual(calls, ['debit', 'debit', 'debit', 'fence']);
  });

  it('keeps retrying a credit that fails for infrastructure reasons', async () => {
    const calls: Calls = [];
    let failures = 0;
    const flaky = async () => {
      if (++failures <= 4) throw new Error('shard timeout');
      return { balanceAfterMinor: '100' };
    };
    const { outcome } = await runTransfer(request(), stubActivities(calls, { creditWallet: flaky }));
    assert.deepEqual(outcome, { status: 'COMPLETED', failureReason: null });
    assert.deepEqual(calls, ['debit', 'credit', 'credit', 'credit', 'credit', 'credit']);
  });

  it('never drops a compensation: the refund retries until it lands', async () => {
    const calls: Calls = [];
    let refundFailures = 0;
    const refuse = async () => {
      throw ApplicationFailure.create({ type: 'user_frozen', nonRetryable: true });
    };
    const flakyRefund = async () => {
      if (++refundFailures <= 3) throw new Error('source shard down');
      return { refunded: true };
    };
    const { outcome, state } = await runTransfer(
      request(),
      stubActivities(calls, { creditWallet: refuse, refundDebit: flakyRefund }),
    );
    assert.deepEqual(outcome, { status: 'FAILED', failureReason: 'user_frozen' });
    assert.deepEqual(calls, [
      'debit',
      'credit',
      'refund:user_frozen',
      'refund:user_frozen',
      'refund:user_frozen',
      'refund:user_frozen',
    ]);
    assert.equal(state.compensated, true);
  });

  it('fails the run without refunding when a credit fails for an unknown reason (it might still land)', async () => {
    const calls: Calls = [];
    const broken = async () => {
      throw ApplicationFailure.create({ type: 'unexpected_bug', nonRetryable: true });
    };
    await assert.rejects(
      runTransfer(request(), stubActivities(calls, { creditWallet: broken })),
      /Workflow execution failed/,
    );
    assert.deepEqual(calls, ['debit', 'credit']);
  });

  it('ignores a cancellation request and finishes the transfer', async () => {
    const calls: Calls = [];
    let creditAttempts = 0;
    const slowCredit = async () => {
      if (++creditAttempts <= 6) throw new Error('shard timeout');
      return { balanceAfterMinor: '100' };
    };
    const transfer = request();
    const taskQueue = uniqueName('wf-test');
    const worker = await testWorker(taskQueue, stubActivities(calls, { creditWallet: slowCredit }));
    const outcome = await worker.runUntil(async () => {
      const handle = await temporal.client.workflow.start(transferWorkflow, {
        taskQueue,
        workflowId: transfer.transferId,
        args: [{ request: transfer, timings }],
        workflowRunTimeout: '60s',
      });
      while (!calls.includes('credit')) await new Promise((resolve) => setTimeout(resolve, 20));
      await handle.cancel();
      return handle.result();
    });
    assert.deepEqual(outcome, { status: 'COMPLETED', failureReason: null });
    assert.equal(calls.at(-1), 'credit');
  });

  it('counts one operator once when the tokens of their approvals are verified together', async () => {
    // Three approvals by one operator, in the workflow's first task, whose token checks all
    // answer at once: the first is admitted, the other two are refused and audited, never
    // silently dropped. The query after the run replays the whole history.
    const waiting = new Map<string, () => void>();
    const refused: string[] = [];
    const decisions: string[] = [];
    const activities = {
      ...stubActivities([], {}),
      async verifyActionToken(input: { token: string }) {
        await new Promise<void>((resolve) => {
          waiting.set(input.token, resolve);
          if (waiting.size >= 3) for (const release of waiting.values()) release();
        });
        return { ok: true, operator: 'carol', tokenId: input.token, allowNegative: false };
      },
      async recordRefusedAction(input: { refusal: string }) {
        refused.push(input.refusal);
      },
      async recordReviewDecision(input: { decision: string; operator: string }) {
        decisions.push(`${input.decision}:${input.operator}`);
      },
      async expireReview() {},
    };
    const transfer = request();
    const taskQueue = uniqueName('wf-test');
    const handle = await temporal.client.workflow.start(transferWorkflow, {
      taskQueue,
      workflowId: transfer.transferId,
      args: [
        {
          request: transfer,
          timings: { ...timings, reviewTimeoutMs: 3_000 },
          policy: { approvalsRequired: 2, dailyOutgoingMaxMinor: null },
        },
      ],
      workflowRunTimeout: '60s',
    });
    for (const reason of ['one', 'two', 'three']) await handle.signal('approve', { token: `t-${reason}`, reason });
    const worker = await testWorker(taskQueue, activities);
    const state = await worker.runUntil(async () => {
      assert.deepEqual(await handle.result(), { status: 'FAILED', failureReason: 'review_timeout' });
      return handle.query(statusQuery);
    });
    assert.deepEqual(decisions, ['approve:carol']);
    assert.deepEqual(refused, ['second_approver_required', 'second_approver_required']);
    assert.deepEqual(
      state.ignoredSignals.map((ignored) => ignored.why.split(':')[0]),
      ['second_approver_required', 'second_approver_required'],
    );
  });

  it('deposits only credit and withdrawals only debit', async () => {
    const depositCalls: Calls = [];
    await runTransfer(request('deposit'), stubActivities(depositCalls, {}));
    assert.deepEqual(depositCalls, ['credit']);
    const withdrawalCalls: Calls = [];
    await runTransfer(request('withdrawal'), stubActivities(withdrawalCalls, {}));
    assert.deepEqual(withdrawalCalls, ['debit']);
  });

  it('gives each leg the finish plan that ends the transfer with it', async () => {
    const transferPlans: Record<string, unknown> = {};
    await runTransfer(request(), stubActivities([], {}, transferPlans));
    const completes = { ifPosted: { status: 'COMPLETED', failureReason: null } };
    assert.deepEqual(transferPlans, {
      debit: { ownerUserId: 'alice', kind: 'transfer', ifRefused: true },
      credit: { ownerUserId: 'alice', kind: 'transfer', ...completes, ifRefused: false },
    });
    const depositPlans: Record<string, unknown> = {};
    await runTransfer(request('deposit'), stubActivities([], {}, depositPlans));
    assert.deepEqual(depositPlans, { credit: { ownerUserId: 'bob', kind: 'deposit', ...completes, ifRefused: true } });
    const withdrawalPlans: Record<string, unknown> = {};
    await runTransfer(request('withdrawal'), stubActivities([], {}, withdrawalPlans));
    assert.deepEqual(withdrawalPlans, {
      debit: { ownerUserId: 'alice', kind: 'withdrawal', ...completes, ifRefused: true },
    });
  });
});

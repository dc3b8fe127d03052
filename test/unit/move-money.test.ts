import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import type { WalletActivities } from '../../activities';
import { sidesOf, type LegInput } from '../../domain/transfer-legs';
import type { Transfer } from '../../domain/transfers';
import type { TransferState } from '../../workflows/messages';
import { moveMoney } from '../../workflows/move-money';

/**
 * The workflow's decisions about money (debit, credit, fence, refund) with plain-object
 * activities and no Temporal server: moveMoney takes its activities as arguments.
 * test/workflow.test.ts runs the same decisions inside a real workflow.
 */

type Leg = 'debitWallet' | 'creditWallet' | 'fenceDebit' | 'refundDebit';

function stubs(calls: string[], fail: Partial<Record<Leg, () => unknown>> = {}): WalletActivities {
  const leg = (name: Leg, answer: unknown) => async (input: LegInput & { failureReason?: string }) => {
    calls.push(input.failureReason ? `${name}:${input.failureReason}` : name);
    if (fail[name]) return fail[name]();
    return answer;
  };
  return {
    debitWallet: leg('debitWallet', { balanceAfterMinor: '0' }),
    creditWallet: leg('creditWallet', { balanceAfterMinor: '100' }),
    fenceDebit: leg('fenceDebit', { outcome: 'voided', reason: 'ledger_unavailable' }),
    refundDebit: leg('refundDebit', { refunded: true }),
  } as unknown as WalletActivities;
}

/** A business refusal as a local activity reports it: a non-retryable ApplicationFailure, sometimes wrapped. */
function refusal(type: string, wrapped = false): never {
  const failure = ApplicationFailure.create({ type, nonRetryable: true });
  if (!wrapped) throw failure;
  throw new ActivityFailure('refused', 'leg', '1', RetryState.NON_RETRYABLE_FAILURE, undefined, failure);
}

/** Retries ran out on an infrastructure error: the leg's fate is unknown. */
function exhausted(): never {
  const cause = ApplicationFailure.create({ type: 'ShardUnavailable', nonRetryable: false });
  throw new ActivityFailure('gave up', 'leg', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, undefined, cause);
}

function transfer(kind: Transfer['kind'] = 'transfer'): Transfer {
  return {
    transferId: 'tr_1',
    kind,
    fromUserId: kind === 'deposit' ? null : 'alice',
    toUserId: kind === 'withdrawal' ? null : 'bob',
    amountMinor: 100n,
    currency: 'USD',
    note: null,
  };
}

async function move(request: Transfer, activities: WalletActivities) {
  const state = { step: 'debiting', compensated: false } as TransferState;
  const reason = await moveMoney(request, undefined, state, { debiting: activities, finishing: activities });
  return { reason, step: state.step, compensated: state.compensated };
}

describe('moveMoney, with stub activities', () => {
  it('debits, then credits', async () => {
    const calls: string[] = [];
    assert.deepEqual(await move(transfer(), stubs(calls)), { reason: null, step: 'crediting', compensated: false });
    assert.deepEqual(calls, ['debitWallet', 'creditWallet']);
  });

  it('never credits when the debit is refused, wrapped in an ActivityFailure or not', async () => {
    for (const wrapped of [false, true]) {
      const calls: string[] = [];
      const moved = await move(transfer(), stubs(calls, { debitWallet: () => refusal('insufficient_funds', wrapped) }));
      assert.equal(moved.reason, 'insufficient_funds');
      assert.deepEqual(calls, ['debitWallet']);
    }
  });

  it('refunds the sender when the credit is refused after the debit', async () => {
    const calls: string[] = [];
    const moved = await move(transfer(), stubs(calls, { creditWallet: () => refusal('wallet_closed') }));
    assert.deepEqual(moved, { reason: 'wallet_closed', step: 'compensating', compensated: true });
    assert.deepEqual(calls, ['debitWallet', 'creditWallet', 'refundDebit:wallet_closed']);
  });

  it('fences a debit of unknown fate, and carries on when the fence finds it posted', async () => {
    const voided: string[] = [];
    const failed = await move(transfer(), stubs(voided, { debitWallet: exhausted }));
    assert.equal(failed.reason, 'ledger_unavailable');
    assert.deepEqual(voided, ['debitWallet', 'fenceDebit']);
    const posted: string[] = [];
    const carried = await move(
      transfer(),
      stubs(posted, { debitWallet: exhausted, fenceDebit: () => ({ outcome: 'posted', reason: null }) }),
    );
    assert.equal(carried.reason, null);
    assert.deepEqual(posted, ['debitWallet', 'fenceDebit', 'creditWallet']);
  });

  it('fails the run, without a refund, when a credit gives up for an unknown reason', async () => {
    const calls: string[] = [];
    await assert.rejects(move(transfer(), stubs(calls, { creditWallet: exhausted })), ActivityFailure);
    assert.deepEqual(calls, ['debitWallet', 'creditWallet']);
  });

  it('lets a bug (an error that is no Temporal failure) fail the workflow task', async () => {
    const bug = new TypeError('not a leg');
    await assert.rejects(
      move(
        transfer(),
        stubs([], {
          debitWallet: () => {
            throw bug;
          },
        }),
      ),
      (error) => error === bug,
    );
  });

  it('deposits only credit and withdrawals only debit', async () => {
    const deposit: string[] = [];
    await move(transfer('deposit'), stubs(deposit));
    assert.deepEqual(deposit, ['creditWallet']);
    const withdrawal: string[] = [];
    await move(transfer('withdrawal'), stubs(withdrawal));
    assert.deepEqual(withdrawal, ['debitWallet']);
  });
});

describe('sidesOf', () => {
  it('moves the same money on both sides through clearing, or through settlement for deposits', () => {
    assert.deepEqual(sidesOf(transfer()).target, { amountMinor: 100n, currency: 'USD', counterparty: 'clearing' });
    assert.equal(sidesOf(transfer('deposit')).source.counterparty, 'settlement');
  });
});

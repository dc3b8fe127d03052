import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wallet_task_queue_default } from '../../config';
import { scheduleIdFor } from '../../workers/interval-schedule';

describe('scheduleIdFor', () => {
  it('keeps the plain id on the default task queue, the one the README names', () => {
    assert.equal(scheduleIdFor('wallet-payout-cutoff', wallet_task_queue_default), 'wallet-payout-cutoff');
  });

  it('gives each other task queue its own id, so two wallets in one namespace never share a Schedule', () => {
    const first = scheduleIdFor('wallet-payout-cutoff', 'wallet-test-1');
    const second = scheduleIdFor('wallet-payout-cutoff', 'wallet-test-2');
    assert.equal(first, 'wallet-payout-cutoff@wallet-test-1');
    assert.notEqual(first, second);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Refund } from '../../activities/types';
import type { Reversal } from '../../activities/reverse';
import { fromPayload, toPayload } from '../../domain/payload';
import { requestHashOf } from '../../domain/transfer-ids';
import { sidesOf, type TransferLeg } from '../../domain/transfer-legs';
import type { Transfer } from '../../domain/transfers';
import type { TransferRun } from '../../workflows/transfer';

/** One converting transfer with every optional field set, so a bigint field anywhere in it is exercised. */
const transfer: Transfer = {
  transferId: 'tr_1',
  kind: 'transfer',
  fromUserId: 'user_A',
  toUserId: 'user_B',
  amountMinor: 10_000n,
  currency: 'USD',
  note: 'rent',
  conversion: { targetCurrency: 'EUR', targetAmountMinor: 9_213n, rate: '0.9213' },
};

/** The whole path through JSON, as Temporal's default converter carries it. */
function overTheWire<T>(value: T): T {
  return fromPayload<T>(JSON.parse(JSON.stringify(toPayload(value))));
}

describe('the Temporal payload codec', () => {
  it('keeps the workflow input wire shape of earlier releases: amounts as decimal strings', () => {
    const run: TransferRun = {
      request: transfer,
      timings: { activityTimeoutMs: 5_000, debitAttemptsMax: 3, retryIntervalMaxMs: 1_000 },
      policy: { approvalsRequired: 0, dailyOutgoingMaxMinor: 500_000n, initiatedBy: null },
    };
    assert.deepEqual(JSON.parse(JSON.stringify(toPayload(run))), {
      request: {
        transferId: 'tr_1',
        kind: 'transfer',
        fromUserId: 'user_A',
        toUserId: 'user_B',
        amountMinor: '10000',
        currency: 'USD',
        note: 'rent',
        conversion: { targetCurrency: 'EUR', targetAmountMinor: '9213', rate: '0.9213' },
      },
      timings: { activityTimeoutMs: 5_000, debitAttemptsMax: 3, retryIntervalMaxMs: 1_000 },
      policy: { approvalsRequired: 0, dailyOutgoingMaxMinor: '500000', initiatedBy: null },
    });
    assert.deepEqual(overTheWire(run), run);
  });

  it('decodes every bigint of every shape it carries (each such field is named ...Minor)', () => {
    const { source } = sidesOf(transfer);
    const leg: TransferLeg = {
      transferId: transfer.transferId,
      userId: 'user_A',
      ...source,
      dailyOutgoingMaxMinor: 0n,
      finish: { ownerUserId: 'user_A', kind: 'transfer', ifPosted: { status: 'COMPLETED', failureReason: null } },
    };
    const refund: Refund = { ...leg, failureReason: 'wallet_closed' };
    const { note: _note, ...reversed } = transfer;
    const reversal: Reversal = {
      ...reversed,
      ownerUserId: 'user_A',
      operator: 'ops_1',
      reason: 'fraud',
      allowNegative: false,
      via: 'signal',
      attempt: 1,
    };
    for (const value of [transfer, leg, refund, reversal]) assert.deepEqual(overTheWire(value), value);
    assert.equal(toPayload(leg).conversion?.sourceAmountMinor, '10000');
  });

  it('refuses an amount that is not a plain integer, and leaves other strings alone', () => {
    assert.throws(() => fromPayload<Transfer>({ ...toPayload(transfer), amountMinor: '1e3' }));
    assert.throws(() => fromPayload<Transfer>({ ...toPayload(transfer), amountMinor: '12.5' }));
    assert.equal(fromPayload<Transfer>(toPayload(transfer)).transferId, 'tr_1');
    assert.equal(fromPayload<Transfer>(toPayload({ ...transfer, note: '42' })).note, '42');
  });

  it('leaves the request fingerprint of a stored transfer as it was (amount hashed as its decimal text)', () => {
    const asked = { kind: 'transfer' as const, fromUserId: 'a', toUserId: 'b', amountMinor: 100n, currency: 'USD' };
    // Computed by the code before amounts became bigints here: a retry of an old request must still match.
    assert.equal(
      requestHashOf({ ...asked, note: null }),
      '05463b647271a3a51ec8994875d2fd3b7b41973153f2e5c4f8f5032e93af726c',
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransferBatchBody } from '../../api/schemas';
import { batchIdFor, batchRequestHashOf, batchTotalOf, type BatchRequest } from '../../domain/transfer-batches';
import { transferIdFor } from '../../domain/transfer-ids';

const batch: BatchRequest = {
  payerUserId: 'employer',
  currency: 'USD',
  idempotencyKey: 'payroll-2026-12',
  items: [
    { toUserId: 'alice', amountMinor: 150_000n, note: 'December', idempotencyKey: 'payroll-2026-12-alice' },
    { toUserId: 'bob', amountMinor: 120_000n, note: null, idempotencyKey: 'payroll-2026-12-bob' },
  ],
};

describe('batch ids and fingerprints', () => {
  it('names a batch by payer and key, apart from any transfer id', () => {
    assert.equal(batchIdFor('employer', 'k'), batchIdFor('employer', 'k'));
    assert.notEqual(batchIdFor('employer', 'k'), batchIdFor('other', 'k'));
    assert.match(batchIdFor('employer', 'k'), /^tb_[0-9a-f]{32}$/);
    assert.notEqual(batchIdFor('employer', 'k').slice(3), transferIdFor('transfer', 'employer', 'k').slice(3));
  });

  it('fingerprints every item in order, so another body under the same key is told apart', () => {
    const hash = batchRequestHashOf(batch);
    assert.equal(batchRequestHashOf({ ...batch, items: [...batch.items] }), hash);
    assert.notEqual(batchRequestHashOf({ ...batch, items: [...batch.items].reverse() }), hash);
    const [first, second] = batch.items as [BatchRequest['items'][0], BatchRequest['items'][0]];
    assert.notEqual(batchRequestHashOf({ ...batch, items: [{ ...first, amountMinor: 150_001n }, second] }), hash);
    assert.notEqual(batchRequestHashOf({ ...batch, items: [{ ...first, note: null }, second] }), hash);
    assert.notEqual(batchRequestHashOf({ ...batch, currency: 'EUR' }), hash);
    assert.equal(batchTotalOf(batch.items), 270_000n);
  });
});

describe('the batch body', () => {
  const item = (key: string, currency = 'USD') => ({ to_user_id: 'bob', amount: 1, currency, idempotency_key: key });
  const body = (items: unknown[]) => ({ from_user_id: 'employer', idempotency_key: 'b', items });

  it('takes 1 to 1,000 items of one currency with keys of their own', () => {
    assert.ok(TransferBatchBody.safeParse(body([item('a')])).success);
    assert.ok(
      TransferBatchBody.safeParse(body(Array.from({ length: 1_000 }, (_, index) => item(`k${index}`)))).success,
    );
    for (const [why, items] of [
      ['empty', []],
      ['1,001 items', Array.from({ length: 1_001 }, (_, index) => item(`k${index}`))],
      ['two items with one key', [item('a'), item('a')]],
      ['two currencies', [item('a'), item('b', 'EUR')]],
      ['an item that is not an object', [item('a'), 7]],
    ] as const) {
      assert.equal(TransferBatchBody.safeParse(body([...items])).success, false, why);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShardBusyError } from '../../db/shards';
import { ShardGate } from '../../api/shard-gate';

describe('ShardGate', () => {
  it('lets `concurrency` requests per shard through at once and the rest in order', async () => {
    const gate = new ShardGate(2, 2, 1_000);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const work = (index: number) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push(index);
      running--;
      return index;
    };
    const results = await Promise.all(Array.from({ length: 10 }, (_, index) => gate.run(0, work(index))));
    assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(most, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Another shard is not held up by this one's queue.
    assert.equal(await gate.run(1, async () => 'other'), 'other');
  });

  it('refuses with ShardBusyError a request that waited too long, and frees its slot after a failure', async () => {
    const gate = new ShardGate(1, 1, 50);
    let release!: () => void;
    const holding = gate.run(0, () => new Promise<void>((resolve) => (release = resolve)));
    await assert.rejects(
      gate.run(0, async () => 'late'),
      ShardBusyError,
    );
    release();
    await holding;
    await assert.rejects(
      gate.run(0, () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await gate.run(0, async () => 'free'), 'free');
  });

  it("waits as long as the request's own bound (an admitted transfer's target), past the gate's default", async () => {
    const gate = new ShardGate(1, 1, 20);
    let release!: () => void;
    const holding = gate.run(0, () => new Promise<void>((resolve) => (release = resolve)));
    const patient = gate.run(0, async () => 'served', 60_000);
    // Past the default bound the patient request is still in line (a default one is refused by now).
    await assert.rejects(
      gate.run(0, async () => 'impatient'),
      ShardBusyError,
    );
    release();
    await holding;
    assert.equal(await patient, 'served');
  });
});

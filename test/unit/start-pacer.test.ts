import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransferRecord } from '../../ledger/transfers';
import { StartPacer } from '../../temporal-client/start-pacer';

/** Only the id and the parties matter to the pacer; the rest of the record travels through to the start. */
function recordOf(transferId: string, shards: readonly number[] = [0]): TransferRecord {
  const [from, to] = shards;
  return {
    transferId,
    status: 'PENDING',
    fromUserId: `u${from}`,
    toUserId: to === undefined ? null : `u${to}`,
  } as TransferRecord;
}

/** A pacer over a recording start, a manual clock, and the finishes the test reports. */
function pacerWith(windowMax: number, options: { placeHoldMaxMs?: number; failing?: Set<string> } = {}) {
  const clock = { nowMs: 0 };
  const startedIds: string[] = [];
  const failedIds: string[] = [];
  const finishedIds = new Set<string>();
  const pacer = new StartPacer(
    {
      start: async (record) => {
        if (options.failing?.has(record.transferId)) throw new Error('engine unavailable');
        startedIds.push(record.transferId);
        return 'eager';
      },
      // Users are named after their shard: u0 lives on shard 0.
      shardsOf: (record) =>
        [record.fromUserId, record.toUserId]
          .filter((userId): userId is string => userId !== null)
          .map((userId) => Number(userId.slice(1))),
      hasFinished: (transferId) => finishedIds.has(transferId),
      failed: (record) => failedIds.push(record.transferId),
      now: () => clock.nowMs,
    },
    { windowMax, ...(options.placeHoldMaxMs === undefined ? {} : { placeHoldMaxMs: options.placeHoldMaxMs }) },
  );
  const finish = (transferId: string) => {
    finishedIds.add(transferId);
    pacer.finished(transferId);
  };
  return { pacer, clock, startedIds, failedIds, finish };
}

/** Lets the pacer's background starts run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('StartPacer', () => {
  it('starts at once while the window has room, then defers, and starts the deferred in order as transfers finish', async () => {
    const { pacer, startedIds, finish } = pacerWith(2);
    assert.equal(await pacer.start(recordOf('t1')), 'eager');
    assert.equal(await pacer.start(recordOf('t2')), 'eager');
    assert.equal(await pacer.start(recordOf('t3')), 'deferred');
    assert.equal(await pacer.start(recordOf('t4')), 'deferred');
    assert.equal(pacer.deferred, 2);
    assert.ok(pacer.isDeferred('t3'));
    await settle();
    assert.deepEqual(startedIds, ['t1', 't2']);
    finish('t1');
    await settle();
    assert.deepEqual(startedIds, ['t1', 't2', 't3']);
    assert.ok(!pacer.isDeferred('t3'));
    // Nobody overtakes the queue: a new request waits behind t4 although t2 just finished.
    finish('t2');
    assert.equal(await pacer.start(recordOf('t5')), 'deferred');
    await settle();
    assert.deepEqual(startedIds, ['t1', 't2', 't3', 't4']);
    finish('t3');
    await settle();
    assert.deepEqual(startedIds, ['t1', 't2', 't3', 't4', 't5']);
    assert.equal(pacer.deferred, 0);
  });

  it('a transfer that finished before its start returned holds no place', async () => {
    const { pacer, startedIds, finish } = pacerWith(1);
    finish('fast');
    assert.equal(await pacer.start(recordOf('fast')), 'eager');
    assert.equal(await pacer.start(recordOf('next')), 'eager');
    assert.deepEqual(startedIds, ['fast', 'next']);
  });

  it('a retried request for a deferred transfer keeps its place in the queue', async () => {
    const { pacer, startedIds, finish } = pacerWith(1);
    await pacer.start(recordOf('running'));
    assert.equal(await pacer.start(recordOf('a')), 'deferred');
    assert.equal(await pacer.start(recordOf('b')), 'deferred');
    assert.equal(await pacer.start(recordOf('a')), 'deferred');
    assert.equal(pacer.deferred, 2);
    finish('running');
    await settle();
    assert.deepEqual(startedIds, ['running', 'a']);
  });

  it('a transfer unfinished after the hold limit (stuck on a shard) gives its place to the next start', async () => {
    const { pacer, clock, startedIds } = pacerWith(1, { placeHoldMaxMs: 5_000 });
    await pacer.start(recordOf('stuck'));
    assert.equal(await pacer.start(recordOf('waiting')), 'deferred');
    clock.nowMs = 4_999;
    assert.equal(await pacer.start(recordOf('later')), 'deferred');
    await settle();
    assert.deepEqual(startedIds, ['stuck']);
    clock.nowMs = 5_001;
    assert.equal(await pacer.start(recordOf('latest')), 'deferred');
    await settle();
    assert.deepEqual(startedIds, ['stuck', 'waiting']);
  });

  it('a deferred start that fails is reported (the sweeper starts it) and frees its turn for the next', async () => {
    const { pacer, startedIds, failedIds, finish } = pacerWith(1, { failing: new Set(['broken']) });
    await pacer.start(recordOf('first'));
    await pacer.start(recordOf('broken'));
    await pacer.start(recordOf('after'));
    finish('first');
    await settle();
    await settle();
    assert.deepEqual(failedIds, ['broken']);
    assert.deepEqual(startedIds, ['first', 'after']);
  });

  it('transfers stuck on one shard fill only its window: starts among the other shards go on, and the stuck shard keeps its order', async () => {
    const { pacer, startedIds, finish } = pacerWith(2);
    // Two transfers into shard 3 that will not finish (its accounts are locked).
    assert.equal(await pacer.start(recordOf('stuck1', [0, 3])), 'eager');
    assert.equal(await pacer.start(recordOf('stuck2', [1, 3])), 'eager');
    assert.equal(await pacer.start(recordOf('waits-on-3', [2, 3])), 'deferred');
    assert.equal(await pacer.start(recordOf('healthy', [0, 1])), 'eager');
    // Overtakes the transfer waiting for shard 3: it needs only shard 2, which has room.
    assert.equal(await pacer.start(recordOf('on-2', [2])), 'eager');
    assert.equal(await pacer.start(recordOf('full-on-0', [0])), 'deferred');
    assert.equal(await pacer.start(recordOf('also-3', [3])), 'deferred');
    await settle();
    assert.deepEqual(startedIds, ['stuck1', 'stuck2', 'healthy', 'on-2']);
    finish('healthy');
    await settle();
    assert.deepEqual(startedIds, ['stuck1', 'stuck2', 'healthy', 'on-2', 'full-on-0']);
    // Shard 3's one free place goes to the older of the two waiting for it.
    finish('stuck1');
    await settle();
    assert.deepEqual(startedIds, ['stuck1', 'stuck2', 'healthy', 'on-2', 'full-on-0', 'waits-on-3']);
    assert.ok(pacer.isDeferred('also-3'));
  });
});

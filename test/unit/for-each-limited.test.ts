import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachLimited, forEachSettled } from '../../workers/for-each-limited';

/** Work over 0..count-1 that records what ran, how many ran at once, and fails on the given items. */
function tracked(count: number, failing: ReadonlySet<number>) {
  const items = Array.from({ length: count }, (_, index) => index);
  const seen = { started: [] as number[], finished: [] as number[], active: 0, activeMax: 0 };
  const work = async (item: number) => {
    seen.started.push(item);
    seen.active++;
    seen.activeMax = Math.max(seen.activeMax, seen.active);
    try {
      // The failing item fails fast, while its neighbours are still at work.
      await sleep(failing.has(item) ? 5 : 40);
      if (failing.has(item)) throw new Error(`item ${item} failed`);
      seen.finished.push(item);
    } finally {
      seen.active--;
    }
  };
  return { items, seen, work };
}

describe('forEachLimited', () => {
  it('runs every item, at most `concurrency` at a time', async () => {
    const { items, seen, work } = tracked(10, new Set());
    await forEachLimited(items, 3, work);
    assert.deepEqual(
      [...seen.finished].sort((a, b) => a - b),
      items,
    );
    assert.equal(seen.activeMax, 3);
  });

  it('rejects with the first error only once the items already running have settled, and starts no more', async () => {
    const { items, seen, work } = tracked(10, new Set([1]));
    await assert.rejects(forEachLimited(items, 3, work), /item 1 failed/);
    // Nothing runs on unwatched behind the rejection.
    assert.equal(seen.active, 0);
    assert.deepEqual(seen.finished.sort(), [0, 2]);
    assert.equal(seen.started.length, 3);
  });

  it('does nothing for no items', async () => {
    const { seen, work } = tracked(0, new Set());
    await forEachLimited([], 3, work);
    assert.deepEqual(seen.started, []);
  });
});

describe('forEachSettled', () => {
  it('runs every item whatever fails, and answers the failures with their items', async () => {
    const { items, seen, work } = tracked(10, new Set([1, 7]));
    const failures = await forEachSettled(items, 3, work);
    assert.equal(seen.active, 0);
    assert.deepEqual(
      failures.map(({ item, error }) => [item, (error as Error).message]),
      [
        [1, 'item 1 failed'],
        [7, 'item 7 failed'],
      ],
    );
    assert.deepEqual(
      [...seen.finished].sort((a, b) => a - b),
      [0, 2, 3, 4, 5, 6, 8, 9],
    );
    assert.equal(seen.activeMax, 3);
  });
});

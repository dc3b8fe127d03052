import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { WaitSlots } from '../../api/caller-limits';

describe('WaitSlots', () => {
  const requestOf = (userId: string, role = 'customer') => ({ principal: { userId, role } }) as never;

  it('bounds open waits per caller and in all, and frees a slot once', () => {
    const slots = new WaitSlots({ waitsPerCaller: 2, waitsMax: 3 }, new Registry());
    const a1 = slots.tryAcquire(requestOf('a'))!;
    const a2 = slots.tryAcquire(requestOf('a'))!;
    assert.equal(slots.tryAcquire(requestOf('a')), undefined, "past a's own bound");
    const b1 = slots.tryAcquire(requestOf('b'))!;
    assert.equal(slots.tryAcquire(requestOf('c')), undefined, "past the process's bound");
    a1();
    a1();
    assert.deepEqual(slots.stats(), { open: 2, callers: 2 }, 'a release counts once');
    assert.ok(slots.tryAcquire(requestOf('c')));
    a2();
    b1();
  });

  it('bounds an ops caller only by the process bound', () => {
    const slots = new WaitSlots({ waitsPerCaller: 1, waitsMax: 3 }, new Registry());
    const releases = [1, 2, 3].map(() => slots.tryAcquire(requestOf('ops_console', 'ops')));
    assert.ok(releases.every(Boolean));
    assert.equal(slots.tryAcquire(requestOf('ops_console', 'ops')), undefined);
  });
});

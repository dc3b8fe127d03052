import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAbaRoutingNumber } from '../../domain/bank-accounts';
import { fileIdModifierOf, nachaDateOf, nachaDayOf, traceNumberOf } from '../../rails/ach/trace-numbers';

describe('ACH trace numbers and dates', () => {
  it('makes a trace number of the routing prefix and seven digits of the entry sequence', () => {
    assert.equal(traceNumberOf('231380104', 0), '231380100000000');
    assert.equal(traceNumberOf('231380104', 41), '231380100000041');
    // Wraps after ten million entries rather than growing past fifteen digits.
    assert.equal(traceNumberOf('231380104', 10_000_041), '231380100000041');
    assert.throws(() => traceNumberOf('23138010', 1), RangeError);
    assert.throws(() => traceNumberOf('231380104', -1), RangeError);
    assert.throws(() => traceNumberOf('231380104', 1.5), RangeError);
  });

  it('names files A-Z then 0-9 and writes dates as NACHA does, in UTC', () => {
    assert.deepEqual([0, 25, 26, 35, 36].map(fileIdModifierOf), ['A', 'Z', '0', '9', 'A']);
    assert.deepEqual(nachaDateOf(new Date('2026-12-07T23:59:30Z')), { date: '261207', time: '2359' });
    assert.equal(nachaDayOf('2026-01-31'), '260131');
    assert.throws(() => nachaDayOf('2026-1-31'), RangeError);
  });

  it('checks the ABA routing checksum', () => {
    assert.ok(isAbaRoutingNumber('021000021'));
    assert.ok(isAbaRoutingNumber('231380104'));
    assert.ok(!isAbaRoutingNumber('021000022'));
    assert.ok(!isAbaRoutingNumber('02100002'));
  });
});

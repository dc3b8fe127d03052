import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVirtualAccountNumber, virtualAccountNumberOf } from '../../domain/virtual-accounts';
import { routingNumberOfPrefix } from '../../rails/ach/trace-numbers';
import { isAbaRoutingNumber } from '../../domain/bank-accounts';

describe('virtual account numbers', () => {
  it('are 7, ten digits of the counter and a Luhn check digit', () => {
    assert.equal(virtualAccountNumberOf(1n), '700000000013');
    assert.equal(virtualAccountNumberOf(9_999_999_999n).length, 12);
    for (const counter of [1n, 2n, 42n, 123_456_789n, 9_999_999_999n])
      assert.ok(isVirtualAccountNumber(virtualAccountNumberOf(counter)));
  });

  it('refuse counters outside 1 to 9,999,999,999', () => {
    assert.throws(() => virtualAccountNumberOf(0n), RangeError);
    assert.throws(() => virtualAccountNumberOf(10_000_000_000n), RangeError);
  });

  it('name no wallet when one digit is mistyped or two neighbours swapped', () => {
    const number = virtualAccountNumberOf(1_234_567n);
    for (let index = 0; index < number.length; index++) {
      for (let digit = 0; digit <= 9; digit++) {
        const typo = `${number.slice(0, index)}${digit}${number.slice(index + 1)}`;
        if (typo !== number) assert.equal(isVirtualAccountNumber(typo), false, typo);
      }
    }
    for (let index = 1; index + 1 < number.length; index++) {
      const swapped = `${number.slice(0, index)}${number[index + 1]}${number[index]}${number.slice(index + 2)}`;
      if (swapped !== number) assert.equal(isVirtualAccountNumber(swapped), false, swapped);
    }
    assert.equal(isVirtualAccountNumber('12345678'), false);
  });
});

describe('routing numbers from a trace number prefix', () => {
  it('append the ABA check digit', () => {
    assert.equal(routingNumberOfPrefix('09100001'), '091000019');
    assert.equal(routingNumberOfPrefix('23138010'), '231380104');
    for (const prefix of ['02100002', '01100001', '12345678'])
      assert.ok(isAbaRoutingNumber(routingNumberOfPrefix(prefix)));
    assert.throws(() => routingNumberOfPrefix('1234567'), RangeError);
  });
});

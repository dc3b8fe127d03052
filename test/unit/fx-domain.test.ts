import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convertMinor, formatRate, isRateText, parseRate } from '../../domain/fx';
import { formatMinor, minorDigits, parseMajor } from '../../domain/money';
import { requestHashOf } from '../../domain/transfer-ids';

describe('currencies at each exponent', () => {
  const cases = [
    { currency: 'JPY', digits: 0, major: '1500', minor: 1500n },
    { currency: 'USD', digits: 2, major: '12.34', minor: 1234n },
    { currency: 'BHD', digits: 3, major: '1.250', minor: 1250n },
  ];
  for (const { currency, digits, major, minor } of cases) {
    it(`${currency}: ${digits} decimal places from currency-codes, parsed and formatted both ways`, () => {
      assert.equal(minorDigits(currency), digits);
      assert.equal(parseMajor(major, currency), minor);
      assert.equal(formatMinor(minor, currency), major);
      assert.equal(formatMinor(1n, currency), digits === 0 ? '1' : `0.${'1'.padStart(digits, '0')}`);
      assert.equal(parseMajor(formatMinor(1n, currency), currency), 1n);
      assert.equal(parseMajor(`-${major}`, currency), -minor);
    });
  }

  it('refuses more decimal places than the currency has, and anything not a plain decimal', () => {
    assert.throws(() => parseMajor('0.001', 'USD'), /2 decimal places/);
    assert.throws(() => parseMajor('1.5', 'JPY'), /0 decimal places/);
    assert.throws(() => parseMajor('0.0001', 'BHD'), /3 decimal places/);
    for (const bad of ['1e3', '1.', '.5', '01', '+1', ' 1', '1,00', 'NaN', ''])
      assert.throws(() => parseMajor(bad, 'USD'), `${bad} should be refused`);
    assert.equal(parseMajor('1.5', 'USD'), 150n);
    assert.equal(parseMajor('1.500', 'BHD'), 1500n);
  });
});

describe('FX rates', () => {
  it('parse exactly, with trailing zeros dropped, and format back', () => {
    assert.deepEqual(parseRate('1.0845'), { units: 10845n, scale: 4 });
    assert.equal(formatRate(parseRate('1.50')), '1.5');
    assert.equal(formatRate(parseRate('150')), '150');
    assert.equal(formatRate(parseRate('0.0067')), '0.0067');
    assert.equal(formatRate(parseRate('0.000000000001')), '0.000000000001');
    assert.equal(formatRate(parseRate('999999999.999999999999')), '999999999.999999999999');
  });

  it('refuse zero, signs, exponents, floats written oddly, and too many digits', () => {
    for (const bad of [
      '0',
      '0.000',
      '-1',
      '+1',
      '1e3',
      '1E-2',
      '.5',
      '1.',
      '01.5',
      ' 1',
      '1 ',
      'NaN',
      'Infinity',
      '0x10',
      '1.0000000000001',
      '1000000000',
      '',
    ]) {
      assert.equal(isRateText(bad), false, bad);
    }
    for (const good of ['1', '0.5', '1.0845', '150.25', '0.000000000001', '999999999'])
      assert.equal(isRateText(good), true, good);
  });
});

describe('conversion rounding (rounded down to a whole target minor unit)', () => {
  const rate = (text: string) => parseRate(text);

  it('converts across exponents exactly', () => {
    assert.equal(convertMinor(10_000n, 'USD', 'EUR', rate('0.9215')), 9_215n); // 100.00 USD -> 92.15 EUR
    assert.equal(convertMinor(10_000n, 'USD', 'JPY', rate('150.5')), 15_050n); // 100.00 USD -> 15050 JPY
    assert.equal(convertMinor(15_050n, 'JPY', 'USD', rate('0.0066445')), 9_999n); // 100.0 USD less a fraction: rounded down
    assert.equal(convertMinor(1_000n, 'BHD', 'USD', rate('2.659')), 265n); // 1.000 BHD -> 2.659 USD -> 2.65
    assert.equal(convertMinor(10_000n, 'USD', 'BHD', rate('0.376')), 37_600n); // 100.00 USD -> 37.600 BHD
  });

  it('one minor unit at each exponent: kept when it is worth at least one target unit, else zero', () => {
    assert.equal(convertMinor(1n, 'USD', 'JPY', rate('150.5')), 1n); // 0.01 USD = 1.505 JPY -> 1
    assert.equal(convertMinor(1n, 'USD', 'BHD', rate('0.376')), 3n); // 0.01 USD = 3.76 fils -> 3
    assert.equal(convertMinor(1n, 'JPY', 'USD', rate('0.0067')), 0n); // 1 JPY = 0.67 cents -> 0 (refused by callers)
    assert.equal(convertMinor(1n, 'BHD', 'JPY', rate('398.1')), 0n); // 1 fils = 0.3981 JPY -> 0
    assert.equal(convertMinor(1n, 'BHD', 'USD', rate('2.659')), 0n); // 1 fils = 0.2659 cents -> 0
    assert.equal(convertMinor(1n, 'JPY', 'BHD', rate('0.0025')), 2n); // 1 JPY = 2.5 fils -> 2
  });

  it('never rounds up: the exact boundary and one unit below it', () => {
    assert.equal(convertMinor(100n, 'JPY', 'USD', rate('0.01')), 100n); // exactly 1.00 USD
    assert.equal(convertMinor(99n, 'JPY', 'USD', rate('0.0101')), 99n); // 0.9999 USD -> 0.99
    assert.equal(convertMinor(3n, 'USD', 'EUR', rate('0.333333')), 0n); // 0.00999999 EUR -> 0
  });

  it('stays exact on the largest amounts (no float anywhere)', () => {
    assert.equal(
      convertMinor(1_000_000_000_000n, 'USD', 'JPY', rate('999999999.999999999999')),
      9_999_999_999_999_999_999n,
    );
  });

  it('keys the request fingerprint on the target currency and quote, not on the rate', () => {
    const request = {
      kind: 'transfer' as const,
      fromUserId: 'a',
      toUserId: 'b',
      amountMinor: 100n,
      currency: 'USD',
      note: null,
    };
    assert.notEqual(requestHashOf(request), requestHashOf(request, { currency: 'EUR', quoteId: null }));
    assert.notEqual(
      requestHashOf(request, { currency: 'EUR', quoteId: null }),
      requestHashOf(request, { currency: 'EUR', quoteId: 'q_1' }),
    );
    assert.equal(
      requestHashOf(request, { currency: 'EUR', quoteId: null }),
      requestHashOf(request, { currency: 'EUR', quoteId: null }),
    );
  });
});

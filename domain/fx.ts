import { minorDigits } from './money';

/**
 * Exchange rates as exact decimals: a rate is a bigint of units scaled by 10^scale, so
 * "1.0845" is { units: 10845n, scale: 4 }. No floating point anywhere: conversions are bigint
 * multiplications and one division whose remainder is dropped by the documented rule.
 * Pure, so the workflow and the API may both use it.
 */
export interface Rate {
  units: bigint;
  scale: number;
}

/** Digits a rate may have after the point, and before it: enough for 1 BHD in VND and 1 VND in BHD. */
export const rate_fraction_digits_max = 12;
export const rate_integer_digits_max = 9;

const rate_pattern = new RegExp(
  `^(0|[1-9][0-9]{0,${rate_integer_digits_max - 1}})(?:\\.([0-9]{1,${rate_fraction_digits_max}}))?$`,
);

/** True for a decimal string this wallet accepts as a rate: plain digits, a point, no sign or exponent, above zero. */
export function isRateText(text: string): boolean {
  const match = rate_pattern.exec(text);
  return match !== null && /[1-9]/.test(text);
}

/** Parses a rate's decimal text exactly; throws on anything isRateText refuses. Trailing zeros are dropped. */
export function parseRate(text: string): Rate {
  const match = rate_pattern.exec(text);
  if (!match) throw new Error(`not a rate: ${text}`);
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  const units = BigInt(match[1]! + fraction);
  if (units === 0n) throw new Error(`a rate must be above zero: ${text}`);
  return { units, scale: fraction.length };
}

/** The canonical text of a rate: "1.0845", "150", "0.0067" (no trailing zeros, no exponent). */
export function formatRate(rate: Rate): string {
  const digits = rate.units.toString().padStart(rate.scale + 1, '0');
  if (rate.scale === 0) return digits;
  return `${digits.slice(0, digits.length - rate.scale)}.${digits.slice(-rate.scale)}`;
}

/**
 * The target amount of a conversion, in the target currency's minor units.
 *
 * The rounding rule: the exact result is rounded DOWN (toward zero) to a whole minor unit of
 * the target currency. The recipient never gets more than the rate gives; the fraction of a
 * minor unit stays with the FX house. A result that rounds to zero is no conversion at all:
 * callers refuse it (amount_too_small).
 *
 * source minor units -> major units (/ 10^sourceDigits) -> times the rate (/ 10^scale) -> target
 * minor units (* 10^targetDigits); all as one fraction, divided once at the end.
 */
export function convertMinor(sourceMinor: bigint, sourceCurrency: string, targetCurrency: string, rate: Rate): bigint {
  if (sourceMinor <= 0n) throw new Error(`a conversion needs a positive amount, got ${sourceMinor}`);
  const sourceDigits = requireDigits(sourceCurrency);
  const targetDigits = requireDigits(targetCurrency);
  const numerator = sourceMinor * rate.units * 10n ** BigInt(targetDigits);
  const denominator = 10n ** BigInt(sourceDigits + rate.scale);
  return numerator / denominator;
}

function requireDigits(currency: string): number {
  const digits = minorDigits(currency);
  if (digits === undefined) throw new Error(`${currency} has no minor unit`);
  return digits;
}

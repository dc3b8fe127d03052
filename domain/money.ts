/**
 * Money is a bigint count of minor units and its ISO 4217 currency, always together.
 * At JSON and Temporal payload boundaries amounts travel as decimal strings or safe integers.
 */
import currencyCodes from 'currency-codes';

/** The largest single transfer, in minor units: keeps every amount a safe JSON integer. */
export const transfer_amount_max_minor = 1_000_000_000_000n;

/**
 * The currencies a wallet holds unless CURRENCIES says otherwise: the majors, plus JPY (no minor
 * unit) and BHD (three digits), which the tests and examples use for exponents other than 2.
 */
export const wallet_currencies_default = ['USD', 'EUR', 'GBP', 'CHF', 'JPY', 'CAD', 'AUD', 'BHD'] as const;

/**
 * The wallet's currencies, checked against ISO 4217: `currency-codes` also lists XXX ("no
 * currency"), XTS (testing) and the metals, so being listed there is not enough to be held here.
 */
export function walletCurrencies(codes: readonly string[]): ReadonlySet<string> {
  const unknown = codes.filter((code) => !isKnownCurrency(code));
  if (unknown.length > 0) throw new Error(`not ISO 4217 currencies with a minor unit: ${unknown.join(', ')}`);
  if (codes.length === 0) throw new Error('the wallet needs at least one currency');
  return new Set(codes);
}

/** An ISO 4217 code with a defined minor unit: what a configured currency must be. */
export function isKnownCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && currencyCodes.code(code) !== undefined && minorDigits(code) !== undefined;
}

/** Digits after the decimal point (2 for USD, 0 for JPY); undefined for codes with no minor unit defined. */
export function minorDigits(code: string): number | undefined {
  const digits = currencyCodes.code(code)?.digits;
  return typeof digits === 'number' && Number.isInteger(digits) ? digits : undefined;
}

/** "5000" USD -> "50.00"; used for human summaries, never for arithmetic. */
export function formatMinor(amountMinor: bigint, currency: string): string {
  const digits = minorDigits(currency) ?? 0;
  const negative = amountMinor < 0n;
  const magnitude = (negative ? -amountMinor : amountMinor).toString().padStart(digits + 1, '0');
  const whole = magnitude.slice(0, magnitude.length - digits);
  const fraction = digits > 0 ? `.${magnitude.slice(-digits)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** Parses a decimal string of minor units from a payload; throws on anything else. */
export function parseMinor(value: string): bigint {
  if (!/^-?(0|[1-9][0-9]*)$/.test(value)) throw new Error(`not an integer amount: ${value}`);
  return BigInt(value);
}

/**
 * Parses an amount written in major units ("12.34" USD, "1500" JPY, "1.250" BHD) into minor
 * units at the currency's exponent. More fraction digits than the currency has is refused, never
 * rounded: "0.001" USD is not an amount. For people's input (scripts, docs); the API takes minor units.
 */
export function parseMajor(text: string, currency: string): bigint {
  const digits = minorDigits(currency);
  if (digits === undefined) throw new Error(`${currency} has no minor unit`);
  const match = /^(-)?(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(text);
  if (!match) throw new Error(`not a decimal amount: ${text}`);
  const fraction = match[3] ?? '';
  if (fraction.length > digits)
    throw new Error(`${currency} has ${digits} decimal places; ${text} has ${fraction.length}`);
  const magnitude = BigInt(match[2]! + fraction.padEnd(digits, '0'));
  return match[1] ? -magnitude : magnitude;
}

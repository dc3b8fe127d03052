import { ApiError } from './errors';

/** Refuses, as unsupported_currency, any code that is not one of the wallet's configured currencies (CURRENCIES). */
export function requireSupportedCurrencies(supported: ReadonlySet<string>, ...codes: string[]): void {
  for (const code of codes) {
    if (!supported.has(code))
      throw new ApiError(
        'unsupported_currency',
        `${code} is not one of this wallet's currencies: ${[...supported].join(', ')}`,
      );
  }
}

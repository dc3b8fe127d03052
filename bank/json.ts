import { isInteger, parse, stringify } from 'lossless-json';
import { BankError } from './bank-errors';

/**
 * The bank's JSON, read and written exactly: a whole number arrives as a bigint (never a float
 * that may have lost digits) and anything else numeric is refused; bigints are written as JSON
 * integers. The bodies are small and flat, so lossless-json's recursion is no concern at 16 KiB.
 */
export function parseBankJson(text: string): unknown {
  try {
    return parse(text, null, (value) => {
      if (!isInteger(value))
        throw new BankError('invalid_request', `numbers are whole numbers, not ${value.slice(0, 30)}`);
      return BigInt(value);
    });
  } catch (error) {
    if (error instanceof BankError) throw error;
    throw new BankError('invalid_request', `the body is not valid JSON: ${(error as Error).message.slice(0, 120)}`);
  }
}

/** Written with the API's snake_case keys (the code's camelCase objects converted on the way out). */
export function bankJson(value: unknown): string {
  return stringify(snakeKeys(value)) ?? 'null';
}

function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
      snakeKeys(inner),
    ]),
  );
}

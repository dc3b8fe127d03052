/**
 * The one codec at the Temporal payload boundary. Inside the wallet money is a bigint of minor
 * units; in a workflow's input and an activity's input it travels as a decimal string (JSON has
 * no bigint). The codec is driven by the names: a field whose name ends in `Minor` holds minor
 * units, so it is the one field a payload turns back into a bigint. Pure: workflow code uses it.
 */
import { parseMinor } from './money';

/** A value as it travels in a payload: every bigint becomes its decimal string, nothing else changes. */
export type Payload<T> = T extends bigint
  ? string
  : T extends readonly (infer Item)[]
    ? Payload<Item>[]
    : T extends object
      ? { [Key in keyof T]: Payload<T[Key]> }
      : T;

/** Encodes for a payload: bigints become decimal strings, at any depth. */
export function toPayload<T>(value: T): Payload<T> {
  return encode(value) as Payload<T>;
}

/**
 * Decodes a payload: a string in a field named `...Minor` becomes a bigint (refused unless it is
 * a plain integer), at any depth. The type T is the caller's to name; a bigint field of T whose
 * name does not end in Minor would stay a string, which `test/domain.test.ts` guards against.
 */
export function fromPayload<T>(payload: Payload<T>): T {
  return decode(payload, false) as T;
}

function encode(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(encode);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, encode(field)]));
}

/**
 * A payload that cannot be decoded fails the same way on every attempt: activities report it as
 * non-retryable (payload_invalid) instead of retrying it forever.
 */
export class PayloadDecodeError extends Error {
  override name = 'PayloadDecodeError';
}

function decode(value: unknown, minorUnits: boolean): unknown {
  if (typeof value === 'string' && minorUnits) {
    try {
      return parseMinor(value);
    } catch (error) {
      throw new PayloadDecodeError((error as Error).message);
    }
  }
  if (Array.isArray(value)) return value.map((item) => decode(item, minorUnits));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, decode(field, key.endsWith('Minor'))]));
}

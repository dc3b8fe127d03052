/**
 * Trace numbers and file ids, pure and deterministic: the same batch built twice gets the same
 * ones, so a file rebuilt after a crash is byte for byte the file the bank may already have.
 */

/** Seven digits of sequence after the bank's eight-digit routing prefix. */
const entry_sequence_modulus = 10_000_000;
/** File id modifiers: A-Z then 0-9 (NACHA), so 36 files per origin and day. */
const file_id_modifiers = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * The trace number of the wallet's entry number `entrySequence` (a counter over all its entries):
 * the ODFI's routing prefix and the counter's last seven digits. It wraps after ten million
 * entries, far beyond any return window, so two live entries never share one.
 */
export function traceNumberOf(odfiRouting: string, entrySequence: number): string {
  if (!/^\d{9}$/.test(odfiRouting)) throw new RangeError(`a routing number has nine digits, not "${odfiRouting}"`);
  if (!Number.isSafeInteger(entrySequence) || entrySequence < 0)
    throw new RangeError(`an entry sequence is a whole number >= 0, not ${entrySequence}`);
  return `${odfiRouting.slice(0, 8)}${String(entrySequence % entry_sequence_modulus).padStart(7, '0')}`;
}

export function fileIdModifierOf(fileSequence: number): string {
  return file_id_modifiers[fileSequence % file_id_modifiers.length]!;
}

/** YYMMDD and HHMM in UTC, as NACHA headers write dates. */
export function nachaDateOf(at: Date): { date: string; time: string } {
  const iso = at.toISOString();
  return {
    date: `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}`,
    time: `${iso.slice(11, 13)}${iso.slice(14, 16)}`,
  };
}

/** "2026-12-07" -> "261207". */
export function nachaDayOf(isoDay: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDay)) throw new RangeError(`a day is YYYY-MM-DD, not "${isoDay}"`);
  return `${isoDay.slice(2, 4)}${isoDay.slice(5, 7)}${isoDay.slice(8, 10)}`;
}

/**
 * The whole routing number of a bank known by its eight-digit prefix (as a trace number or an
 * addenda names the originating bank): the prefix and its ABA check digit (weights 3, 7, 1).
 */
export function routingNumberOfPrefix(prefix: string): string {
  if (!/^\d{8}$/.test(prefix)) throw new RangeError(`a routing prefix has eight digits, not "${prefix}"`);
  const weights = [3, 7, 1, 3, 7, 1, 3, 7];
  const sum = [...prefix].reduce((total, digit, index) => total + Number(digit) * weights[index]!, 0);
  return `${prefix}${(10 - (sum % 10)) % 10}`;
}

/**
 * The seven digits of sequence in the trace number of every entry the wallet originates
 * (rails/ach/trace-numbers.ts) are one space shared by two counters, in two ranges that never
 * meet, so no two live entries of ours share a trace number and a return quoting one names one:
 *
 * - payouts: 0 to 8,999,999 (payout_files' entry counter; a file ends at the wrap, the next
 *   starts at 0 again);
 * - returns of credits we received (R02, R03): 9,000,000 to 9,999,999 (payin_return_entry_sequence).
 *
 * Either range wraps after far more entries than any return window holds.
 */
export const payout_entry_sequences = 9_000_000;

const return_entries_first = 9_000_000;
const return_entries_count = 1_000_000;

/** The place in the shared space of a payout's entry counter value. */
export function payoutEntrySequenceOf(counter: number): number {
  return counter % payout_entry_sequences;
}

/** The place in the shared space of the return entry counter's value. */
export function returnEntrySequenceOf(counter: number): number {
  return return_entries_first + (counter % return_entries_count);
}

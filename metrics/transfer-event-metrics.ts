import type { TransferEvents } from '../activities/types';
import { isFailureReason, transfer_kinds, transfer_statuses } from '../domain/transfers';
import type { WalletMetrics } from './wallet-metrics';

/** Transfers remembered as counted, so a leg replayed after a retry does not count its transfer twice. */
const counted_transfers_max = 10_000;

/**
 * Counts transfers as the activities report them final (or reversed), in
 * `wallet_transfers_finished_total{kind,status,reason}`. Label values come from the fixed lists
 * only (anything else is "other"), so no caller can grow the number of series.
 */
export function transferEventMetrics({ transfersFinished }: Pick<WalletMetrics, 'transfersFinished'>): TransferEvents {
  const counted = new Set<string>();
  return {
    finished(event) {
      // A transfer ends once per status (COMPLETED, and later perhaps REVERSED).
      const key = `${event.transferId}:${event.status}`;
      if (counted.has(key)) return;
      counted.add(key);
      if (counted.size > counted_transfers_max) counted.delete(counted.values().next().value!);
      transfersFinished.inc({
        kind: event.kind === undefined ? 'unknown' : oneOf(transfer_kinds, event.kind),
        status: oneOf(transfer_statuses, event.status),
        reason:
          event.failureReason === null ? 'none' : isFailureReason(event.failureReason) ? event.failureReason : 'other',
      });
    },
  };
}

function oneOf(values: readonly string[], value: string): string {
  return values.includes(value) ? value : 'other';
}

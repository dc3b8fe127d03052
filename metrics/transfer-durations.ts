import type { Histogram } from 'prom-client';
import type { TransferCompletions } from '../temporal-client/transfer-completions';

/** Transfers waiting for their finish news; a transfer finished by another process never sends it here. */
const tracked_transfers_max = 10_000;

/**
 * `wallet_transfer_duration_seconds`: from the moment the API accepted a transfer to the
 * in-process news that its record is final (the deciding leg committed). Only a process that
 * runs the API and the worker together hears that news, so only it observes durations.
 */
export class TransferDurations {
  /** Accepted here, not yet final: transfer id -> performance.now() at acceptance. */
  private readonly acceptedAt = new Map<string, number>();

  constructor(
    private readonly completions: TransferCompletions,
    private readonly seconds: Histogram,
  ) {
    completions.onFinished((transferId) => {
      const accepted = this.acceptedAt.get(transferId);
      if (accepted === undefined) return;
      this.acceptedAt.delete(transferId);
      this.seconds.observe((performance.now() - accepted) / 1000);
    });
  }

  /** A transfer accepted at `acceptedAtMs` (performance.now()) whose workflow was just started. */
  started(transferId: string, acceptedAtMs: number): void {
    // An eagerly started transfer may have finished before its start call returned.
    if (this.completions.hasFinished(transferId)) {
      this.seconds.observe((performance.now() - acceptedAtMs) / 1000);
      return;
    }
    this.acceptedAt.set(transferId, acceptedAtMs);
    if (this.acceptedAt.size > tracked_transfers_max) this.acceptedAt.delete(this.acceptedAt.keys().next().value!);
  }
}

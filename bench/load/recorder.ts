import { LatencyHistogram } from './histogram';
import type { TransferPlan } from './workload';

/** A request whose fate the bench could not learn; the checks at the end find out. */
export interface UnsettledRequest {
  plan: TransferPlan;
  key: string;
  /** Set when the transfer was accepted; absent when the submission itself failed. */
  transferId?: string;
}

/**
 * What one phase measured. Only requests scheduled after the warmup are recorded, and latencies
 * count from each request's scheduled instant, so time spent queued behind slow requests (in the
 * generator, the connection pool or the server) is part of the latency.
 */
export class PhaseRecorder {
  readonly accept = new LatencyHistogram();
  readonly completion = new LatencyHistogram();
  /** How late each open-loop request was fired relative to its schedule. */
  readonly lag = new LatencyHistogram();
  readonly errors = new Map<string, number>();
  /** Errors of warmup requests: not in the measurements, but never hidden. */
  readonly warmup_errors = new Map<string, number>();
  readonly unsettled: UnsettledRequest[] = [];
  scheduled = 0;
  completed = 0;
  /** Requests sent by the phase, warmup included (for the ledger cross-check). */
  sent_total = 0;
  last_completion_ms = 0;

  constructor(readonly measure_start_ms: number) {}

  isMeasured(scheduled_ms: number): boolean {
    return scheduled_ms >= this.measure_start_ms;
  }

  fired(scheduled_ms: number, fired_ms: number): void {
    if (!this.isMeasured(scheduled_ms)) return;
    this.scheduled++;
    this.lag.recordMs(fired_ms - scheduled_ms);
  }

  accepted(scheduled_ms: number, at_ms: number): void {
    if (this.isMeasured(scheduled_ms)) this.accept.recordMs(at_ms - scheduled_ms);
  }

  finished(scheduled_ms: number, at_ms: number): void {
    if (!this.isMeasured(scheduled_ms)) return;
    this.completion.recordMs(at_ms - scheduled_ms);
    this.completed++;
    this.last_completion_ms = Math.max(this.last_completion_ms, at_ms);
  }

  failed(scheduled_ms: number, kind: string): void {
    const counts = this.isMeasured(scheduled_ms) ? this.errors : this.warmup_errors;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
}

import { round, type PhaseResult } from '../load/phase';

export interface PhaseRatios {
  /** transfers ÷ baseline: below 1 means the transfer is slower (throughput) ... */
  completed_per_s: number | null;
  /** ... and above 1 means it takes longer or costs more (latency, CPU). */
  accept_p50: number | null;
  completion_p50: number | null;
  completion_p99: number | null;
  cpu_ms_per_transfer: number | null;
}

/** The transfer phase over a baseline phase, metric by metric. */
export function ratiosOf(transfers: PhaseResult, baseline: PhaseResult): PhaseRatios {
  const ratio = (top: number | null, bottom: number | null) =>
    top === null || bottom === null || bottom === 0 ? null : round(top / bottom, 2);
  return {
    completed_per_s: ratio(transfers.completed_per_s, baseline.completed_per_s),
    accept_p50: ratio(transfers.accept.p50_ms, baseline.accept.p50_ms),
    completion_p50: ratio(transfers.completion.p50_ms, baseline.completion.p50_ms),
    completion_p99: ratio(transfers.completion.p99_ms, baseline.completion.p99_ms),
    cpu_ms_per_transfer: ratio(transfers.cpu_ms_per_transfer_total, baseline.cpu_ms_per_transfer_total),
  };
}

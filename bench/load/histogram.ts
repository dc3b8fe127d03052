import * as hdr from 'hdr-histogram-js';

/** Latencies are recorded in microseconds; anything over ten minutes is clamped (and would be an error anyway). */
const latency_max_us = 600_000_000;

export interface LatencySummary {
  count: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** A latency histogram with 3 significant digits (0.1% resolution) from 1 µs to 10 minutes. */
export class LatencyHistogram {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: latency_max_us,
    numberOfSignificantValueDigits: 3,
  });

  recordMs(latency_ms: number): void {
    this.histogram.recordValue(Math.min(latency_max_us, Math.max(1, Math.round(latency_ms * 1000))));
  }

  summary(): LatencySummary {
    if (this.histogram.totalCount === 0) return { count: 0, p50_ms: 0, p95_ms: 0, p99_ms: 0, max_ms: 0 };
    const max_ms = round2(this.histogram.maxValue / 1000);
    // A percentile is reported as the top of its bucket, which can exceed the exact maximum by the bucket's width.
    const at = (percentile: number) => Math.min(max_ms, round2(this.histogram.getValueAtPercentile(percentile) / 1000));
    return { count: this.histogram.totalCount, p50_ms: at(50), p95_ms: at(95), p99_ms: at(99), max_ms };
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The wallet's metrics, one set per process. When the API and the worker share a process
 * (`npm start`), both record into the same registry and one `/metrics` shows everything; a
 * worker running alone serves the same registry on its own port (metrics/metrics-server.ts).
 * Labels take values from fixed lists only (kinds, statuses, reasons, activity names), never
 * user or transfer ids, so the number of series stays bounded.
 */
function createWalletMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    transfersFinished: new Counter({
      name: 'wallet_transfers_finished_total',
      help: 'Transfers whose record became final (COMPLETED, FAILED with a reason) or REVERSED, counted by the process that wrote it',
      labelNames: ['kind', 'status', 'reason'],
      registers,
    }),
    transferSeconds: new Histogram({
      name: 'wallet_transfer_duration_seconds',
      help: 'From accepting a transfer to its final state, for transfers accepted and finished in this process (API and worker together)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    activitySeconds: new Histogram({
      name: 'wallet_activity_duration_seconds',
      help: 'Duration of each activity attempt, by activity and outcome (succeeded, refused: a business refusal, failed: retried or fatal)',
      labelNames: ['activity', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    ...monitorGauges(registers),
    activityRetries: new Counter({
      name: 'wallet_activity_retries_total',
      help: 'Activity attempts after the first, by activity',
      labelNames: ['activity'],
      registers,
    }),
    transfersFailingReruns: new Gauge({
      name: 'wallet_transfers_failing_reruns',
      help: `Transfers whose workflow ended without finishing them in several orphan sweeps in a row (or completed with the record still pending): rerunning does not help, a person must look`,
      registers,
    }),
    orphanSweepErrors: new Counter({
      name: 'wallet_orphan_sweep_errors_total',
      help: 'Transfers (or shards) the orphan sweeper could not look at in a sweep (Temporal or the shard failed); the sweep finishes the rest and the next one tries again',
      registers,
    }),
    ledgerStepsRetryingLong: new Counter({
      name: 'wallet_ledger_steps_retrying_long_total',
      help: 'Failed attempts of a ledger step that has been retrying longer than STUCK_AFTER (each is also logged as an error), by activity',
      labelNames: ['activity'],
      registers,
    }),
  };
}

/** The gauges the transfer monitor (workers/transfer-monitor.ts) sets on each run. */
function monitorGauges(registers: Registry[]) {
  return {
    transfersStuck: new Gauge({
      name: 'wallet_transfers_stuck',
      help: 'Running transfers still PENDING longer than STUCK_AFTER after they started (Temporal visibility, counted every MONITOR_INTERVAL_MS)',
      registers,
    }),
    transfersHalfReversed: new Gauge({
      name: 'wallet_transfers_half_reversed',
      help: 'Reversals half done: the reversal debit posted longer than ACTIVITY_TIMEOUT_MS ago, its credit not (the ledger, read on every shard every MONITOR_INTERVAL_MS)',
      registers,
    }),
    reviewQueueLength: new Gauge({
      name: 'wallet_review_queue_length',
      help: 'Running transfers waiting in PENDING_REVIEW for an operator (Temporal visibility, counted every MONITOR_INTERVAL_MS)',
      registers,
    }),
    batchesNeedingAttention: new Gauge({
      name: 'wallet_batches_needing_attention',
      help: 'Running transfer batches in NEEDS_ATTENTION: a step of the batch failed in a way no retry can fix; it runs again every 10 min (Temporal visibility, counted every MONITOR_INTERVAL_MS)',
      registers,
    }),
    transfersNeedingAttention: new Gauge({
      name: 'wallet_transfers_needing_attention',
      help: "Running transfers in NEEDS_ATTENTION: a step failed in a way no retry can fix and waits for an operator's retry (Temporal visibility, counted every MONITOR_INTERVAL_MS)",
      registers,
    }),
  };
}

export type WalletMetrics = ReturnType<typeof createWalletMetrics>;

let metrics: WalletMetrics | undefined;

/** The process-wide metrics, made on first use. */
export function walletMetrics(): WalletMetrics {
  metrics ??= createWalletMetrics();
  return metrics;
}

/** The Temporal SDK's scrape timeout: a slow or dead exporter must not hold up /metrics. */
const sdk_metrics_fetch_timeout_ms = 1_000;

let sdkMetricsUrl: string | undefined;

/** Set once the SDK's Prometheus exporter listens (app/temporal.ts); /metrics then appends its text. */
export function exposeSdkMetrics(bindAddress: string): void {
  // A wildcard bind address is not something to connect to; the exporter is on this machine.
  const address = bindAddress.replace(/^(0\.0\.0\.0|\[::\]):/, '127.0.0.1:');
  sdkMetricsUrl = `http://${address}/metrics`;
}

/**
 * The text of `/metrics`: the wallet's registry, then the Temporal SDK's own runtime metrics
 * (worker slots, poll latencies, sticky cache, ...) when this process runs a worker. The SDK's
 * part is best effort: when it cannot be fetched, the wallet's metrics are still served.
 */
export async function walletMetricsText(registry: Registry): Promise<string> {
  const own = await registry.metrics();
  if (sdkMetricsUrl === undefined) return own;
  try {
    const response = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(sdk_metrics_fetch_timeout_ms) });
    if (!response.ok) return own;
    const sdk = await response.text();
    return sdk.length === 0 ? own : `${own.endsWith('\n') ? own : `${own}\n`}${sdk}`;
  } catch {
    return own;
  }
}

export const metrics_content_type = Registry.PROMETHEUS_CONTENT_TYPE;

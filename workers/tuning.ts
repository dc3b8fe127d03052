import type { WorkerOptions } from '@temporalio/worker';

/**
 * Worker options that decide throughput, shared by the wallet's worker and the benchmark's
 * engine-floor worker so the floor is measured with exactly the transfer's settings.
 * Measured with `npm run bench` against the SDK's defaults (40 tasks, cache sized from the heap):
 * with the defaults an open loop at 45/s fell behind; see docs/performance.md.
 */
export const worker_tuning = {
  // A transfer's workflow lives for one workflow task; the cache only has to hold the ones in
  // flight (and those waiting out a retry timer), so it stays small. Every transfer holds a task
  // slot while its legs run, and eager start needs a free one.
  maxCachedWorkflows: 1_000,
  maxConcurrentWorkflowTaskExecutions: 100,
} satisfies Partial<WorkerOptions>;

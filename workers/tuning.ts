import type { WorkerOptions } from '@temporalio/worker';

/**
 * Worker options that decide throughput, shared by the wallet's worker and the benchmark's
 * engine-floor worker so the floor is measured with exactly the transfer's settings.
 * Measured with `npm run bench` against the SDK's defaults (40 tasks, cache sized from the heap):
 * with the defaults an open loop at 45/s fell behind; see docs/performance.md.
 */
export const worker_tuning = {
  // A transfer moves its money in one workflow task, then waits days for its reversal window with
  // nothing to do; the cache only has to hold the ones in flight, so it stays small (twice the
  // task slots). A reversal of an evicted workflow replays a few events. Measured: with 10,000
  // transfers in their window a cache of 1,000 cost the worker about 180 MiB more than 200, at
  // the same throughput. Every transfer holds a task slot while its legs run, and eager start
  // needs a free one.
  maxCachedWorkflows: 200,
  maxConcurrentWorkflowTaskExecutions: 100,
} satisfies Partial<WorkerOptions>;

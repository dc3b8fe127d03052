import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import type { ShardSet } from '../db/shards';
import type { TransferCompletions } from '../runtime/transfer-completions';
import { worker_tuning } from './tuning';

export const workflows_path = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WalletWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  shards: ShardSet;
  logger: Logger;
  /** Tests pass a pre-built bundle (bundle once per file) and may wrap activities. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  activities?: object;
  completions?: TransferCompletions;
}

export async function createWalletWorker(options: WalletWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflows_path }),
    activities: options.activities ?? createActivities({ shards: options.shards, logger: options.logger, ...(options.completions ? { completions: options.completions } : {}) }),
    ...worker_tuning,
    // Graceful shutdown lets in-flight ledger transactions finish before the process exits.
    shutdownGraceTime: '10s',
    // Each leg holds at most one shard connection; with no more legs running than a pool has
    // connections, a leg never times out waiting for one, even when all hit one shard.
    maxConcurrentLocalActivityExecutions: options.shards.poolSize,
  });
}

import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import type { ShardSet } from '../db/shards';

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
}

export async function createWalletWorker(options: WalletWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflows_path }),
    activities: options.activities ?? createActivities({ shards: options.shards, logger: options.logger }),
    // Graceful shutdown lets in-flight ledger transactions finish before the process exits.
    shutdownGraceTime: '10s',
    // Each activity holds at most one shard connection; with no more activities than a pool has
    // connections, an activity never times out waiting for one, even when all hit one shard.
    maxConcurrentActivityTaskExecutions: options.shards.poolSize,
  });
}

import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  bundleWorkflowCode,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { workflows_path } from '../../workers/create-worker';
import { runnerEnv } from './runner-env';

export function temporalAddress(): string {
  return runnerEnv('TEMPORAL_ADDRESS');
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test file (bundling takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: workflows_path, logger: quietLogger });
  return bundle;
}

export const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

let runtimeInstalled = false;

/** SDK logs stay quiet in tests except errors; must run before the first worker or native connection. */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
}

/** Connects to the suite's dev server, or to `address` (a test that runs its own server, e.g. with the Web UI). */
export async function connectTemporal(
  address = temporalAddress(),
): Promise<{ client: Client; connection: Connection; nativeConnection: NativeConnection; close: () => Promise<void> }> {
  installQuietRuntime();
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection }),
    connection,
    nativeConnection,
    close: async () => {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/** Runs a worker in the background until the returned stop function is called. */
export function runInBackground(worker: Worker): () => Promise<void> {
  const running = worker.run();
  return async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  };
}

import { MockActivityEnvironment } from '@temporalio/testing';
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
import { parseConfig } from '../../config';
import { walletDataConverter } from '../../temporal-client/payload-codec';
import { workflows_path } from '../../workers/create-worker';
import { runnerEnv } from './runner-env';

export function temporalAddress(): string {
  return runnerEnv('TEMPORAL_ADDRESS');
}

/**
 * The payload codec of the wallet processes tests start (PAYLOAD_KEYS, or the development key
 * as `npm start` has it): every client and worker of the tests encrypts and decrypts with it.
 */
export const test_payload_keys = parseConfig(
  process.env.PAYLOAD_KEYS ? { PAYLOAD_KEYS: process.env.PAYLOAD_KEYS } : {},
).payloadKeys;
export const test_data_converter = walletDataConverter(test_payload_keys);

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test file (bundling takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: workflows_path, logger: quietLogger });
  return bundle;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/** Runs activity functions in a mock activity context (first attempt, quiet), as a worker would. */
export function mockActivityRunner() {
  const environment = new MockActivityEnvironment({ attempt: 1 }, { logger: quietLogger });
  return <F extends (...args: any[]) => Promise<unknown>>(fn: F, ...args: Parameters<F>) =>
    environment.run(fn, ...args) as ReturnType<F>;
}

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
    client: new Client({ connection, dataConverter: test_data_converter }),
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

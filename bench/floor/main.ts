/**
 * The engine-floor process `npm run bench` spawns: a Temporal worker for the no-op floor workflow,
 * with the wallet's worker options, and an HTTP server with the wallet's transfer contract. The
 * client rides on the worker's NativeConnection, which is what makes eager start work.
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { installTemporalLogging, temporalConnectionOptions } from '../../app/temporal';
import { config } from '../../config';
import { worker_tuning } from '../../workers/tuning';
import { createFloorActivities } from './activities';
import { FloorCompletions } from './completions';
import { createFloorServer } from './http';

const workflows_path = fileURLToPath(new URL('./workflow.ts', import.meta.url));

async function run(): Promise<void> {
  const settings = floorSettings(process.env);
  // The same logging path as the wallet's worker, so both pay the same for it.
  installTemporalLogging(pino({ level: 'warn' }));
  // With the wallet's TEMPORAL_TLS_* (a mutual-TLS cluster), so both pay the same for the connection too.
  const access = temporalConnectionOptions({ ...config(), temporalAddress: settings.temporalAddress });
  const connection = await NativeConnection.connect(access);
  const completions = new FloorCompletions();
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    workflowsPath: workflows_path,
    activities: createFloorActivities(completions),
    ...worker_tuning,
    // The wallet's worker bounds local activities by its shard pool size (workers/create-worker.ts).
    maxConcurrentLocalActivityExecutions: settings.localActivitiesMax,
  });
  const client = new Client({ connection, namespace: settings.namespace });
  const server = createFloorServer({ client, taskQueue: settings.taskQueue, completions });
  const running = worker.run();
  await new Promise<void>((resolve, reject) =>
    server.listen(settings.port, settings.host, resolve).once('error', reject),
  );
  const stop = () => {
    server.closeAllConnections();
    server.close();
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await running;
  await connection.close();
}

function floorSettings(env: NodeJS.ProcessEnv) {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    temporalAddress: required('TEMPORAL_ADDRESS'),
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: required('FLOOR_TASK_QUEUE'),
    port: Number(required('PORT')),
    host: env.HOST ?? '127.0.0.1',
    localActivitiesMax: Number(env.FLOOR_LOCAL_ACTIVITIES_MAX ?? '10'),
  };
}

run().then(
  () => process.exit(0),
  (error) => {
    console.error(`bench floor: ${(error as Error).message}`);
    process.exit(1);
  },
);

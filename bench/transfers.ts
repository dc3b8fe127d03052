/**
 * `npm run bench [-- --transfers 400 --concurrency 16]`: transfer throughput and latency through
 * the whole stack (HTTP -> Temporal workflow -> worker -> PostgreSQL shards). It starts its own
 * in-memory Temporal dev server (unless TEMPORAL_ADDRESS is set), worker and API, on fresh shard
 * databases that it drops afterwards. Each transfer is a POST with ?wait=30, timed until its
 * final state.
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createApp } from '../api/app';
import { signToken } from '../api/auth';
import { dropDatabases } from '../db/admin';
import { prepareShards } from '../db/migrate';
import { ShardSet } from '../db/shards';
import { startEphemeralTemporal } from '../runtime/dev-server';
import { installTemporalLogging } from '../runtime/temporal';
import { createWalletWorker } from '../workers/create-worker';

const server_url = 'postgres://postgres@127.0.0.1:5432';
const secret = 'bench-secret-bench-secret-bench-secret-0123';

async function run() {
  const { values } = parseArgs({ options: { transfers: { type: 'string', default: '400' }, concurrency: { type: 'string', default: '16' }, users: { type: 'string', default: '64' } } });
  const transferCount = Number(values.transfers);
  const concurrency = Number(values.concurrency);
  const userCount = Number(values.users);
  const logger = pino({ level: 'error' });
  installTemporalLogging(logger);

  const temporal = await startEphemeralTemporal(process.env.TEMPORAL_CLI);
  await temporal.ready;
  const address = temporal.address;
  const urls = [0, 1, 2, 3].map((index) => `${server_url}/wallet_bench_${process.pid}_${index}`);
  await prepareShards(urls);
  const shards = new ShardSet(urls, 20);
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection });
  const taskQueue = `bench-${process.pid}`;
  const worker = await createWalletWorker({ connection: nativeConnection, namespace: 'default', taskQueue, shards, logger });
  const timings = { activityTimeoutMs: 10_000, debitAttemptsMax: 12, retryIntervalMaxMs: 5_000 };
  const app = createApp({ shards, client, logger, authSecret: secret, taskQueue, timings });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  try {
    await worker.runUntil(async () => {
      const ops = await signToken(secret, { userId: 'bench_ops', role: 'ops' });
      const users = Array.from({ length: userCount }, (_, index) => `bench_${index}`);
      for (const userId of users) {
        await post(base, '/v1/wallet/users', ops, { user_id: userId });
        await post(base, `/v1/wallet/${userId}/deposits?wait=30`, ops, { amount: 1_000_000, currency: 'USD', idempotency_key: `seed-${userId}` });
      }
      const latenciesMs: number[] = [];
      const statuses = new Map<string, number>();
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < transferCount) {
            const index = next++;
            const from = users[index % userCount]!;
            const to = users[(index * 7 + 1) % userCount === index % userCount ? (index + 1) % userCount : (index * 7 + 1) % userCount]!;
            const begin = performance.now();
            const answer = await post(base, '/v1/wallet/transfers?wait=30', ops, {
              from_user_id: from,
              to_user_id: to,
              amount: 100,
              currency: 'USD',
              idempotency_key: `bench-${index}`,
            });
            latenciesMs.push(performance.now() - begin);
            const status = String((answer as { status?: string }).status ?? 'error');
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      );
      const elapsedS = (performance.now() - started) / 1000;
      latenciesMs.sort((a, b) => a - b);
      const percentile = (p: number) => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor((p / 100) * latenciesMs.length))]!.toFixed(1);
      console.log(
        JSON.stringify(
          {
            transfers: transferCount,
            concurrency,
            users: userCount,
            shards: urls.length,
            statuses: Object.fromEntries(statuses),
            elapsed_s: Number(elapsedS.toFixed(2)),
            transfers_per_s: Number((transferCount / elapsedS).toFixed(1)),
            latency_ms: { p50: percentile(50), p95: percentile(95), p99: percentile(99), max: percentile(100) },
          },
          null,
          2,
        ),
      );
    });
  } finally {
    server.close();
    await connection.close();
    await nativeConnection.close();
    await shards.close();
    await dropDatabases(server_url, urls.map((url) => url.slice(server_url.length + 1)));
    temporal.stop();
  }
}

async function post(base: string, path: string, token: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return response.json();
}

run().then(
  () => process.exit(0),
  (error) => {
    console.error(`wallet bench: ${(error as Error).message}`);
    process.exit(1);
  },
);

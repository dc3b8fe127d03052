/**
 * `npm run temporal:cluster`: the production Temporal server (what docker-compose.yml runs), built
 * from source and run on the local PostgreSQL, so that path can be run and measured without Docker.
 * All four services run in one process; Ctrl-C stops it. The databases survive and are reused.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { watchConnection } from '../db/connection-errors';
import { z } from 'zod';
import { config } from '../config';
import { quoteIdentifier, serverUrlOf, withServerAdmin } from '../db/admin';
import { isPortOpen, waitForPort } from '../supervisor/dev-server';
import { waitForTemporal } from '../supervisor/wait-for-temporal';
import { transfer_search_attributes } from '../workflows/search-attributes';
import { ensureTemporalCerts, type TemporalCerts } from './temporal-certs';

const run_file = promisify(execFile);

const cluster_settings = z
  .object({
    // The membership ports (300 below) are stored as smallint: the server dies on one above 32767.
    TEMPORAL_CLUSTER_PORT: z.coerce.number().int().min(1_324).max(33_000).default(7433),
    TEMPORAL_CLUSTER_DB_PREFIX: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,40}$/, 'lower-case letters, digits and _ only')
      .default('temporal_cluster'),
    TEMPORAL_HISTORY_SHARDS: z.coerce.number().int().min(1).max(16_384).default(4),
  })
  .parse(process.env);

const port = cluster_settings.TEMPORAL_CLUSTER_PORT;
const address = `127.0.0.1:${port}`;
const namespace = 'default';
const startup_timeout_ms = 120_000;
const shutdown_timeout_ms = 30_000;
const log_tail_lines_max = 40;
const databases = {
  temporal: cluster_settings.TEMPORAL_CLUSTER_DB_PREFIX,
  visibility: `${cluster_settings.TEMPORAL_CLUSTER_DB_PREFIX}_visibility`,
};

async function run() {
  const settings = config();
  if (await isPortOpen(port)) throw new Error(`port ${port} (TEMPORAL_CLUSTER_PORT) is already in use`);
  const binDir = (await run_file('bash', ['scripts/ensure-temporal-server.sh'], { maxBuffer: 1 << 24 })).stdout.trim();
  const cliPath = (await run_file('bash', ['scripts/ensure-temporal.sh'])).stdout.trim();
  const dataDir = path.resolve(settings.DATA_DIR, 'temporal-cluster');
  mkdirSync(dataDir, { recursive: true });

  await createDatabases(settings.PG_URL);
  const schemaStarted = Date.now();
  await applySchema(binDir, settings.PG_URL);
  console.log(`temporal cluster: schema up to date in ${Date.now() - schemaStarted} ms`);
  const certs = await ensureTemporalCerts(path.join(dataDir, 'tls'));
  writeServerConfig(dataDir, settings.PG_URL, certs);
  const cli = { path: cliPath, target: ['--address', address, '--namespace', namespace, ...cliTlsFlags(certs)] };

  const started = Date.now();
  const server = startServer(binDir, dataDir);
  try {
    // Raced with the server's exit, so a crash while starting is reported with its log lines.
    await Promise.race([server.died, waitForServer(certs)]);
    console.log(`temporal cluster: frontend answered after ${Date.now() - started} ms`);
    await Promise.race([server.died, registerNamespace(cli)]);
    await Promise.race([server.died, registerSearchAttributes(cli)]);
  } catch (error) {
    server.child.kill('SIGKILL'); // a half-started server must not outlive this script
    throw error;
  }
  const shards = cluster_settings.TEMPORAL_HISTORY_SHARDS;
  console.log(
    `temporal cluster: ready on ${address} after ${Date.now() - started} ms (namespace ${namespace}, ${shards} history shards)`,
  );
  printUsage(certs);
  console.log(`  server log:  ${path.join(dataDir, 'server.log')}; Ctrl-C stops the server`);
  await server.died;
}

async function createDatabases(pgUrl: string) {
  await withServerAdmin(serverUrlOf(pgUrl), async (admin) => {
    for (const name of Object.values(databases)) {
      const found = await admin.query('select 1 from pg_database where datname = $1::text', [name]);
      if (found.rowCount === 0) await admin.query(`create database ${quoteIdentifier(name)}`);
    }
  });
  await assertShardCountUnchanged(pgUrl);
}

/** Temporal keeps the shard count it was first started with (it logs and ignores a new one): say so loudly. */
async function assertShardCountUnchanged(pgUrl: string) {
  const client = watchConnection(
    new pg.Client({ connectionString: `${serverUrlOf(pgUrl)}/${databases.temporal}` }),
    'temporal cluster',
  );
  await client.connect();
  try {
    // Two queries: a reference to a missing table fails at parse time, inside a case too.
    const table = await client.query<{ name: string | null }>(`select to_regclass('shards')::text as name`);
    if (!table.rows[0]?.name) return; // schema not applied yet: a fresh cluster
    // Zero until the first start, which creates every shard's row.
    const shards = await client.query<{ count: number }>('select count(*)::int as count from shards');
    const persisted = shards.rows[0]?.count ?? 0;
    if (persisted !== 0 && persisted !== cluster_settings.TEMPORAL_HISTORY_SHARDS) {
      throw new Error(
        `database ${databases.temporal} has ${persisted} history shards, TEMPORAL_HISTORY_SHARDS asks for ` +
          `${cluster_settings.TEMPORAL_HISTORY_SHARDS}: drop both databases (or pick another TEMPORAL_CLUSTER_DB_PREFIX) to change it`,
      );
    }
  } finally {
    await client.end();
  }
}

/** The same two steps as docker-compose.yml's admin-tools job; both are no-ops when already done. */
async function applySchema(binDir: string, pgUrl: string) {
  const { hostname, port: pgPort, username, password } = new URL(pgUrl);
  const connection = [
    '--plugin',
    'postgres12',
    '--ep',
    hostname,
    '-p',
    pgPort || '5432',
    '-u',
    decodeURIComponent(username),
  ];
  if (password) connection.push('--pw', decodeURIComponent(password));
  for (const [kind, database] of Object.entries(databases)) {
    const versioned = path.join(binDir, 'temporal-schema/postgresql/v12', kind, 'versioned');
    for (const step of [
      ['setup-schema', '-v', '0.0'],
      ['update-schema', '-d', versioned],
    ]) {
      await run_file(path.join(binDir, 'temporal-sql-tool'), [...connection, '--db', database, ...step]).catch(
        (error) => {
          throw new Error(`temporal-sql-tool ${step[0]} on ${database} failed: ${error.stderr || error.message}`);
        },
      );
    }
  }
}

/**
 * Written as JSON, which is valid YAML, so the shape is checked by TypeScript rather than by hand.
 * Ports keep the layout of Temporal's own configs (7233 frontend, 7234 history, 7235 matching,
 * 7239 worker, 6933+ membership), moved to TEMPORAL_CLUSTER_PORT so it runs beside the dev server.
 */
function writeServerConfig(dataDir: string, pgUrl: string, certs: TemporalCerts) {
  const { hostname, port: pgPort, username, password } = new URL(pgUrl);
  // Each service keeps its own pools, so the process holds up to 4 x (8 + 2) connections: enough
  // for 2 cores (more would only queue inside PostgreSQL) and far below max_connections = 100,
  // which the wallet's shard pools share.
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${hostname}:${pgPort || 5432}`,
      connectProtocol: 'tcp',
      user: decodeURIComponent(username),
      password: decodeURIComponent(password),
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number) => ({ grpcPort, membershipPort, bindOnIP: '127.0.0.1' });
  const server = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: cluster_settings.TEMPORAL_HISTORY_SHARDS,
      datastores: { default: store(databases.temporal, 8), visibility: store(databases.visibility, 2) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: { prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${port + 20}` } },
      tls: tlsSettings(certs),
    },
    services: {
      frontend: { rpc: { ...rpc(port, port - 300), httpPort: port + 10 } },
      history: { rpc: rpc(port + 1, port - 299) },
      matching: { rpc: rpc(port + 2, port - 298) },
      worker: { rpc: rpc(port + 6, port - 294) },
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: address },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    dynamicConfigClient: { filepath: path.join(dataDir, 'dynamic-config.yaml'), pollInterval: '10s' },
  };
  // The first three are 1.29's defaults already, written out so the file matches the dev server's
  // settings (supervisor/dev-server.ts) even if a later version changes them. One task-queue
  // partition: partitions spread load over matching hosts, and one machine has only one.
  const dynamic = {
    'system.forceSearchAttributesCacheRefreshOnRead': [{ value: false }],
    'system.enableEagerWorkflowStart': [{ value: true }],
    'frontend.enableUpdateWorkflowExecution': [{ value: true }],
    'matching.numTaskqueueReadPartitions': [{ value: 1 }],
    'matching.numTaskqueueWritePartitions': [{ value: 1 }],
  };
  const header = '# Written by scripts/temporal-cluster.ts on every start; edits are overwritten.\n';
  writeFileSync(path.join(dataDir, 'temporal.yaml'), header + JSON.stringify(server, null, 2) + '\n');
  writeFileSync(path.join(dataDir, 'dynamic-config.yaml'), header + JSON.stringify(dynamic, null, 2) + '\n');
}

/**
 * Mutual TLS on every port: the frontend refuses a client without a certificate signed by the
 * project's CA, and history, matching and the system worker talk to each other (and to the
 * frontend) with the server's certificate, which is also a client certificate.
 */
function tlsSettings(certs: TemporalCerts) {
  const server = {
    certFile: certs.server.cert,
    keyFile: certs.server.key,
    requireClientAuth: true,
    clientCaFiles: [certs.ca],
  };
  const client = { serverName: 'localhost', rootCaFiles: [certs.ca] };
  return {
    internode: { server, client },
    frontend: { server, client },
    systemWorker: { certFile: certs.server.cert, keyFile: certs.server.key, client },
  };
}

/** The CLI as an operator: the operator's certificate, the project's CA. */
function cliTlsFlags(certs: TemporalCerts): string[] {
  return [
    '--tls-ca-path',
    certs.ca,
    '--tls-cert-path',
    certs.operator.cert,
    '--tls-key-path',
    certs.operator.key,
    '--tls-server-name',
    'localhost',
  ];
}

/** The settings a wallet (or the CLI, whose environment names are the same) needs for this cluster. */
function printUsage(certs: TemporalCerts) {
  const relative = (file: string) => {
    const inside = path.relative(process.cwd(), file);
    return inside.startsWith('..') ? file : inside;
  };
  const settings = (pair: { cert: string; key: string }) =>
    `TEMPORAL_ADDRESS=${address} TEMPORAL_TLS_CA=${relative(certs.ca)} ` +
    `TEMPORAL_TLS_CERT=${relative(pair.cert)} TEMPORAL_TLS_KEY=${relative(pair.key)} TEMPORAL_TLS_SERVER_NAME=localhost`;
  console.log(`  use it with: ${settings(certs.wallet)} npm start`);
  console.log(`  as operator: ${settings(certs.operator)} .tools/bin/temporal workflow list`);
}

/** Output goes to server.log; the last lines are kept to explain a crash. */
function startServer(binDir: string, dataDir: string): { child: ChildProcess; died: Promise<never> } {
  const log = createWriteStream(path.join(dataDir, 'server.log'), { flags: 'a' });
  const tail: string[] = [];
  // The server reads <root>/<config>/<env>.yaml; no authorizer is what the dev server runs with too.
  const args = ['--root', dataDir, '--config', '.', '--env', 'temporal', '--allow-no-auth', 'start'];
  const child = spawn(path.join(binDir, 'temporal-server'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      tail.push(...chunk.toString().split('\n').filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - log_tail_lines_max));
    });
  }
  let stopping = false;
  const stop = () => {
    stopping = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), shutdown_timeout_ms).unref();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
  const died = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      log.end();
      if (stopping) process.exit(0);
      reject(new Error(`temporal-server exited (${signal ?? `code ${code}`}); its last lines:\n${tail.join('\n')}`));
    });
  });
  died.catch(() => undefined); // rejections are read through the races in run()
  return { child, died };
}

/** The server creates the temporal-system namespace itself, so describing it proves the frontend and persistence work. */
async function waitForServer(certs: TemporalCerts) {
  await waitForPort(port, startup_timeout_ms);
  await waitForTemporal(address, 'temporal-system', startup_timeout_ms, {
    tls: {
      serverNameOverride: 'localhost',
      serverRootCACertificate: readFileSync(certs.ca),
      clientCertPair: { crt: readFileSync(certs.operator.cert), key: readFileSync(certs.operator.key) },
    },
  });
}

/** The CLI with the cluster's address, namespace and the operator's certificate. */
interface ClusterCli {
  path: string;
  target: string[];
}

async function registerNamespace(cli: ClusterCli) {
  const exists = await run_file(cli.path, ['operator', 'namespace', 'describe', ...cli.target]).then(
    () => true,
    () => false,
  );
  if (!exists) await run_file(cli.path, ['operator', 'namespace', 'create', ...cli.target, '--retention', '1d']);
}

/** The transfer workflow sets these; a cluster, unlike the dev server, needs them created once. */
async function registerSearchAttributes(cli: ClusterCli) {
  const typeNames: Partial<Record<string, string>> = { KEYWORD: 'Keyword', INT: 'Int' };
  const existing = await listSearchAttributes(cli);
  for (const key of transfer_search_attributes) {
    if (existing.has(key.name)) continue;
    const typeName = typeNames[key.type];
    if (!typeName) throw new Error(`search attribute ${key.name}: no CLI type for ${key.type}`);
    await run_file(cli.path, [
      'operator',
      'search-attribute',
      'create',
      ...cli.target,
      '--name',
      key.name,
      '--type',
      typeName,
    ]);
  }
}

/** Retried: a namespace just created is unknown to the namespace cache for a few seconds. */
async function listSearchAttributes(cli: ClusterCli): Promise<Set<string>> {
  const deadline = Date.now() + startup_timeout_ms;
  for (;;) {
    try {
      const { stdout } = await run_file(cli.path, [
        'operator',
        'search-attribute',
        'list',
        ...cli.target,
        '--output',
        'json',
      ]);
      return new Set(Object.keys(JSON.parse(stdout).customAttributes ?? {}));
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

run().catch((error) => {
  console.error(`wallet temporal:cluster: ${(error as Error).message}`);
  process.exit(1);
});

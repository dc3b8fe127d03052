import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { devServerSearchAttributeArgs } from '../workflows/search-attributes';
import { waitForTemporal } from './wait-for-temporal';

export interface DevServerOptions {
  cliPath: string;
  port: number;
  /** Web UI port; undefined runs headless (tests). */
  uiPort?: number;
  /** SQLite file that survives restarts; undefined keeps everything in memory (tests). */
  dbFile?: string;
  namespace: string;
  /** The wallet's codec endpoint (http://host:port/codec) the Web UI decrypts payloads through. */
  codecEndpoint?: string;
  /** Where the server's output goes: this process's (default) or an open file descriptor (the chaos run's log). */
  output?: 'inherit' | number;
}

/** Resolves when something accepts TCP connections on the port (gRPC is served right after). */
export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isPortOpen(port, host)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`nothing listened on ${host}:${port} within ${timeoutMs} ms`);
}

export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Asks the OS for a free port (for tests that run beside a dev stack). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface EphemeralTemporal {
  address: string;
  /** Resolves when the namespace exists. */
  ready: Promise<void>;
  /** Safe to call at any time, also before `ready`. */
  stop: () => void;
}

/**
 * A throwaway dev server for tests and benchmarks: in memory, headless, on a free port.
 * TEMPORAL_ADDRESS, when set, is used instead.
 */
export async function startEphemeralTemporal(cliPath: string | undefined): Promise<EphemeralTemporal> {
  const existing = process.env.TEMPORAL_ADDRESS;
  if (existing)
    return { address: existing, ready: waitForTemporal(existing, 'default', 60_000), stop: () => undefined };
  if (!cliPath) throw new Error('TEMPORAL_CLI is not set: run this through its npm script');
  const port = await freePort();
  const server = startDevServer({ cliPath, port, namespace: 'default' });
  const address = `127.0.0.1:${port}`;
  const ready = waitForPort(port, 60_000).then(() => waitForTemporal(address, 'default', 60_000));
  return { address, ready, stop: () => server.kill('SIGINT') };
}

/**
 * Engine settings for speed on one machine, each measured with `npm run bench` (docs/performance.md).
 * The CLI turns forceSearchAttributesCacheRefreshOnRead on, which reloads search attribute
 * metadata from SQLite on every request that carries search attributes (every transfer start).
 */
const dev_server_dynamic_config = [
  'system.forceSearchAttributesCacheRefreshOnRead=false',
  'system.enableEagerWorkflowStart=true',
];

/**
 * `temporal server start-dev` with the wallet's search attributes registered, and, when a
 * database file is given, WAL journaling with synchronous=NORMAL (durable across process
 * crashes, much faster than the default FULL on a busy dev box).
 */
export function startDevServer(options: DevServerOptions): ChildProcess {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--log-level',
    'error',
  ];
  args.push(...(options.uiPort === undefined ? ['--headless'] : ['--ui-port', String(options.uiPort)]));
  if (options.uiPort !== undefined && options.codecEndpoint !== undefined)
    args.push('--ui-codec-endpoint', options.codecEndpoint);
  if (options.dbFile !== undefined) {
    args.push(
      '--db-filename',
      options.dbFile,
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=NORMAL',
    );
  }
  args.push(
    ...devServerSearchAttributeArgs(),
    ...dev_server_dynamic_config.flatMap((setting) => ['--dynamic-config-value', setting]),
  );
  const output = options.output ?? 'inherit';
  return spawn(options.cliPath, args, { stdio: ['ignore', output, output] });
}

/** The wallet API's codec endpoint as the Web UI on this machine reaches it. */
export function codecEndpointOf(settings: { HOST: string; PORT: number }): string {
  const host = settings.HOST === '0.0.0.0' || settings.HOST === '::' ? '127.0.0.1' : settings.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${settings.PORT}/codec`;
}

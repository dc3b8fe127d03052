import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A NATS server with JetStream (Debian's `nats-server`, installed by scripts/ensure-nats.sh) for
 * the wallet events stream: `npm start` runs one on NATS_PORT with its store under DATA_DIR, and
 * tests run their own on a free port with a throwaway store.
 */
export interface NatsServerOptions {
  port: number;
  /** JetStream's store directory: the stream survives a restart of the server. */
  storeDir: string;
  output?: 'inherit' | 'ignore';
}

/** Where ensure-nats.sh puts the server (Debian's package). */
const nats_server_bin = '/usr/sbin/nats-server';

export function startNatsServer(options: NatsServerOptions): ChildProcess {
  return spawn(
    nats_server_bin,
    [
      '-js',
      '-a',
      '127.0.0.1',
      '-p',
      String(options.port),
      '-sd',
      options.storeDir,
      '-n',
      `wallet-nats-${options.port}`,
    ],
    { stdio: ['ignore', options.output ?? 'inherit', options.output ?? 'inherit'] },
  );
}

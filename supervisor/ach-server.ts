import { spawn, type ChildProcess } from 'node:child_process';

/**
 * moov-io/ach's HTTP server (built by scripts/ensure-achserver.sh), the NACHA library behind the
 * ACH rail (docs/rails.md). It keeps files in memory only for the moment of one build or parse,
 * so it holds no state worth keeping: a restart loses nothing, and tests start their own.
 */
export interface AchServerOptions {
  binPath: string;
  port: number;
  /** moov's admin server (metrics, liveness); it must not take its default port, which another run may hold. */
  adminPort: number;
  output?: 'inherit' | 'ignore';
}

export function startAchServer(options: AchServerOptions): ChildProcess {
  return spawn(options.binPath, [], {
    stdio: ['ignore', options.output ?? 'inherit', options.output ?? 'inherit'],
    env: {
      PATH: process.env.PATH,
      HTTP_BIND_ADDRESS: `127.0.0.1:${options.port}`,
      HTTP_ADMIN_BIND_ADDRESS: `127.0.0.1:${options.adminPort}`,
      LOG_FORMAT: 'plain',
      // Files are deleted right after each use; the TTL only bounds what a crash mid-call leaves.
      ACH_FILE_TTL: '1m',
    },
  });
}

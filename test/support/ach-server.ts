import type { ChildProcess } from 'node:child_process';
import { startAchServer } from '../../supervisor/ach-server';
import { freePort, waitForPort } from '../../supervisor/dev-server';
import { runnerEnv } from './runner-env';

/** moov-io/ach's server for one test file, on free ports; stop() when the file is done. */
export async function startTestAchServer(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const adminPort = await freePort();
  const child: ChildProcess = startAchServer({
    binPath: runnerEnv('ACH_SERVER_BIN'),
    port,
    adminPort,
    output: 'ignore',
  });
  await waitForPort(port, 10_000);
  return { url: `http://127.0.0.1:${port}`, stop: () => void child.kill('SIGKILL') };
}

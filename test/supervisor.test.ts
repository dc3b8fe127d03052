import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { isProcessAlive } from '../supervisor/children';

/** Issue 9: a child of `npm start` that dies is restarted with backoff; a crash loop stops everything with exit 1. */
describe('the supervisor of npm start', () => {
  it('restarts a child killed with SIGKILL, and stops everything on SIGTERM', async () => {
    const harness = startHarness('steady');
    try {
      const first = await harness.nthPid(1);
      process.kill(first, 'SIGKILL');
      const second = await harness.nthPid(2);
      assert.notEqual(second, first);
      assert.match(
        harness.output(),
        /stand-in exited \(SIGKILL\); restarting in 200 ms \(crash 1 of at most 3 within 60 s\)/,
      );
      // Again: the backoff doubles.
      process.kill(second, 'SIGKILL');
      const third = await harness.nthPid(3);
      assert.match(harness.output(), /restarting in 400 ms \(crash 2 of/);
      assert.ok(isProcessAlive(third));

      harness.process.kill('SIGTERM');
      assert.deepEqual(await harness.exited, { code: 0, signal: null });
      assert.ok(!isProcessAlive(third), 'the child outlived its supervisor');
    } finally {
      harness.process.kill('SIGKILL');
    }
  });

  it('gives up on a crash loop, stopping with exit code 1 and saying why', async () => {
    const harness = startHarness('crash-loop');
    try {
      assert.deepEqual(await harness.exited, { code: 1, signal: null });
      assert.match(harness.output(), /4 crashes within 60 s, more than 3: giving up, stopping everything/);
      assert.equal(harness.output().match(/stand-in started/g)?.length, 4);
    } finally {
      harness.process.kill('SIGKILL');
    }
  });
});

function startHarness(mode: 'steady' | 'crash-loop') {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/support/supervised.ts', mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    exited,
    output: () => text,
    /** The pid of the child's nth start, once the supervisor logged it. */
    async nthPid(n: number, timeoutMs = 15_000): Promise<number> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const pids = [...text.matchAll(/stand-in started \(pid (\d+)\)/g)].map((match) => Number(match[1]));
        if (pids.length >= n) return pids[n - 1]!;
        if (Date.now() > deadline) throw new Error(`no start number ${n} within ${timeoutMs} ms:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

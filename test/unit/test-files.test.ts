import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

/**
 * scripts/test-files.ts, the runner `npm test` hands its files to: a failing file fails the run,
 * and a file that hangs is stopped at its limit with whatever it started, even one that writes the
 * bytes that send `node --test` into its endless loop on Node 20 (nodejs/node#62693).
 */
describe('the test file runner (scripts/test-files.ts)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wallet-test-files-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, body: string) => {
    writeFileSync(path.join(dir, name), `import { test } from 'node:test';\n${body}\n`);
    return path.join(dir, name);
  };
  const passing = file('passing.test.mjs', `test('passes', () => {});`);
  const failing = file('failing.test.mjs', `test('fails', () => { throw new Error('no'); });`);
  const marker = `wallet-test-files-${process.pid}`;
  const hanging = file(
    'hanging.test.mjs',
    `import { spawn } from 'node:child_process';
test('hangs', async () => {
  spawn('sleep', ['300'], { stdio: 'ignore', argv0: '${marker}' });
  process.stdout.write(Buffer.from([0xff, 0x0f, 0x7f, 0xff, 0xff, 0xff]));
  await new Promise(() => setInterval(() => {}, 1_000));
});`,
  );

  const leaving = file(
    'leaving.test.mjs',
    `import { spawn } from 'node:child_process';
test('leaves a process behind that holds its stderr', () => {
  spawn('sleep', ['300'], { stdio: ['ignore', 'ignore', 'inherit'], detached: true, argv0: '${marker}' }).unref();
});`,
  );
  const empty = path.join(dir, 'empty.test.mjs');
  writeFileSync(empty, '// no test here\n');

  function runFiles(timeoutMs: number, ...files: string[]) {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/test-files.ts', '2', String(timeoutMs), ...files],
      { encoding: 'utf8', timeout: 60_000 },
    );
    return { status: run.status, output: run.stdout + run.stderr };
  }

  it('passes a run whose files all pass, and sums their counts', () => {
    const run = runFiles(30_000, passing, passing);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /ℹ files 2 \(failed 0/);
    assert.match(run.output, /ℹ pass 2\n/);
  });

  it('fails a run with a failing file, and stops a hanging one at its limit with what it started', () => {
    const startedMs = Date.now();
    const run = runFiles(6_000, passing, failing, hanging);
    assert.equal(run.status, 1, run.output);
    assert.ok(Date.now() - startedMs < 30_000, 'the hanging file did not hold up the run');
    assert.match(run.output, /✔ .*passing\.test\.mjs: passed/);
    assert.match(run.output, /✖ .*failing\.test\.mjs: failed/);
    assert.match(run.output, /✖ .*hanging\.test\.mjs: stopped after its 6 s/);
    assert.match(run.output, /✖ failed: .*hanging\.test\.mjs \(out of time\)/);
    const left = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' });
    assert.equal(left.stdout.trim(), '', 'nothing the hanging file started is left');
  });

  it('ends a file when its process exits, though something it left outside its group holds the output', () => {
    const startedMs = Date.now();
    const run = runFiles(30_000, leaving);
    spawnSync('pkill', ['-f', marker]);
    assert.equal(run.status, 0, run.output);
    assert.ok(Date.now() - startedMs < 15_000, `took ${Date.now() - startedMs} ms`);
  });

  it('fails a file that runs no test (a flag value taken for a file, a file that never started)', () => {
    const run = runFiles(30_000, passing, empty);
    assert.equal(run.status, 1, run.output);
    assert.match(run.output, /✖ .*empty\.test\.mjs: failed \(it ran no test\)/);
  });
});

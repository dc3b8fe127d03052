/**
 * Runs test files in the order given, each as a plain `node` process of its own (node:test's
 * harness in the file itself, the spec reporter on its stdout), so that nothing parses a test
 * file's output and every file has a wall-clock limit this process enforces.
 *
 * Why not `node --test` or node:test's run(): both read each file's stdout as a stream of V8
 * frames, and on Node 20 a stray `FF 0F` with a large length in that stream (a child process
 * writing into a file's stdout mid-frame is enough) sends the parent into an endless loop at full
 * CPU that ignores its own timeouts and SIGTERM (nodejs/node#62693, fixed in 24 and later only).
 * CI lost a whole 90-minute budget to it after every test had passed (2026-12-06).
 *
 * `node --import tsx scripts/test-files.ts <concurrency> <timeout ms> [--node-test-flag ...] FILES...`:
 * node flags (`--test-name-pattern=…`, `--test-only`) go to every file; each file's output is
 * printed as a block when it ends; exit code 1 when any file fails or runs out of time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

interface FileResult {
  file: string;
  passed: boolean;
  timedOut: boolean;
  seconds: number;
  counts: Map<string, number>;
}

/** A file's process and the output it has written so far. */
interface RunningFile {
  file: string;
  child: ChildProcess;
  chunks: { stream: 'stdout' | 'stderr'; data: Buffer }[];
}

/** A file's kept output: the end of it when it is longer (a runaway log must not exhaust memory). */
const output_kept_bytes_max = 16 * 1024 * 1024;
/**
 * After a file's process exits, how long its output may still take to arrive: a process it left
 * behind outside its group can hold the pipes open, and must not hold up the run.
 */
const output_drain_ms = 2_000;
/** The spec reporter's summary lines, summed over the files. */
const summary_keys = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'] as const;

const running = new Set<RunningFile>();

async function main(): Promise<number> {
  const [concurrencyArg, timeoutArg, ...rest] = process.argv.slice(2);
  const concurrency = Number(concurrencyArg);
  const timeout_ms = Number(timeoutArg);
  const flags = rest.filter((argument) => argument.startsWith('--'));
  const files = rest.filter((argument) => !argument.startsWith('--'));
  if (!Number.isInteger(concurrency) || concurrency < 1 || !Number.isInteger(timeout_ms) || files.length === 0) {
    console.error('usage: node --import tsx scripts/test-files.ts <concurrency> <timeout ms> [--flag=value] FILES...');
    return 2;
  }
  // However this process ends (a signal, an error, process.exit), no file it started outlives it.
  process.once('exit', stopRunningFiles);
  const stop = () => {
    // What the files still running had written is what shows where they were.
    for (const entry of running) printOutput(entry, `✖ ${entry.file}: interrupted`);
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const started = Date.now();
  const results: FileResult[] = [];
  let next = 0;
  const lane = async () => {
    while (next < files.length) results.push(await runFile(files[next++]!, flags, timeout_ms));
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, lane));
  printSummary(results, Date.now() - started);
  return results.every((result) => result.passed) ? 0 : 1;
}

/** One file in a process group of its own, so a timeout stops it and whatever it started. */
function runFile(file: string, flags: string[], timeout_ms: number): Promise<FileResult> {
  const started = Date.now();
  console.log(`▷ ${file} started`);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test-reporter=spec', '--test-force-exit', ...flags, path.resolve(file)],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const entry: RunningFile = { file, child, chunks: [] };
  running.add(entry);
  let kept = 0;
  const keep = (stream: 'stdout' | 'stderr') => (data: Buffer) => {
    entry.chunks.push({ stream, data });
    kept += data.length;
    while (kept > output_kept_bytes_max && entry.chunks.length > 1) kept -= entry.chunks.shift()!.data.length;
  };
  child.stdout?.on('data', keep('stdout'));
  child.stderr?.on('data', keep('stderr'));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, timeout_ms);
  return new Promise((resolve) => {
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      // Whatever the file started and left behind in its group goes with it.
      killGroup(child);
      // The output still in the pipes, for a moment at most (output_drain_ms).
      const drained = new Promise((done) => child.once('close', done));
      void Promise.race([drained, new Promise((done) => setTimeout(done, output_drain_ms))]).then(() => {
        running.delete(entry);
        child.stdout?.destroy();
        child.stderr?.destroy();
        const seconds = (Date.now() - started) / 1000;
        const counts = summaryCounts(outputOf(entry, 'stdout'));
        // A file that ran no test proves nothing: a flag's value taken for a file, or a file that never started.
        const ranTests = (counts.get('tests') ?? 0) > 0;
        const passed = code === 0 && !timedOut && ranTests;
        const verdict = timedOut
          ? `stopped after its ${timeout_ms / 1000} s`
          : code !== 0
            ? `failed (exit ${code ?? signal})`
            : ranTests
              ? 'passed'
              : 'failed (it ran no test)';
        printOutput(entry, `${passed ? '✔' : '✖'} ${file}: ${verdict} in ${seconds.toFixed(1)} s`);
        resolve({ file, passed, timedOut, seconds, counts });
      });
    };
    child.once('error', (error) => {
      entry.chunks.push({ stream: 'stderr', data: Buffer.from(`${error}\n`) });
      if (child.pid === undefined) finish(null, null);
    });
    child.once('exit', finish);
  });
}

function printOutput(entry: RunningFile, heading: string): void {
  console.log(heading);
  for (const chunk of entry.chunks) process[chunk.stream].write(chunk.data);
}

function outputOf(entry: RunningFile, stream: 'stdout' | 'stderr'): string {
  return Buffer.concat(entry.chunks.filter((chunk) => chunk.stream === stream).map((chunk) => chunk.data)).toString();
}

function stopRunningFiles(): void {
  for (const entry of running) killGroup(entry.child);
}

/** The last `ℹ tests 12`-style figures a file's spec reporter printed. */
function summaryCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^ℹ (\w+) (\d+)$/gm)) counts.set(match[1]!, Number(match[2]));
  return counts;
}

function printSummary(results: FileResult[], elapsed_ms: number): void {
  const failed = results.filter((result) => !result.passed);
  console.log('');
  console.log(
    `ℹ files ${results.length} (failed ${failed.length}, of them out of time ${failed.filter((r) => r.timedOut).length})`,
  );
  for (const key of summary_keys) {
    const total = results.reduce((sum, result) => sum + (result.counts.get(key) ?? 0), 0);
    console.log(`ℹ ${key} ${total}`);
  }
  console.log(`ℹ duration_ms ${elapsed_ms}`);
  for (const result of failed) console.log(`✖ failed: ${result.file}${result.timedOut ? ' (out of time)' : ''}`);
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    // The 'exit' handler stops the files still running.
    process.exit(1);
  },
);

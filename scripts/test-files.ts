/**
 * Runs test files in the order given, through node:test's run(): `node --test` sorts the files
 * by path whatever order they are named in, so scripts/test-plan.ts's longest-first order only
 * holds when they are handed to run() as a list.
 *
 * `node --import tsx scripts/test-files.ts <concurrency> <timeout ms> FILES...`: each file in a
 * process of its own (which inherits `--import tsx`), the spec reporter on stdout, exit code 1 on
 * any failure, and the run ends once every file has (as `--test-force-exit`).
 */
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import path from 'node:path';

const [concurrencyArg, timeoutArg, ...files] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const timeout = Number(timeoutArg);
if (!Number.isInteger(concurrency) || concurrency < 1 || !Number.isInteger(timeout) || files.length === 0) {
  console.error('usage: node --import tsx scripts/test-files.ts <concurrency> <timeout ms> FILES...');
  process.exit(2);
}

const stream = run({ files: files.map((file) => path.resolve(file)), concurrency, timeout, forceExit: true });
// Any failure fails the run, a failing `todo` test's too, as `node --test` here (Node 20) does.
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(new spec()).pipe(process.stdout);

/**
 * What a test run needs, decided from the files it runs: unit tests (test/unit/) need nothing,
 * every other test file runs against Temporal and PostgreSQL, only the browser test needs
 * Chromium, and only the mutual-TLS test the production Temporal server. Static checks belong to the whole suite, not to a focused run.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const unit_dir = 'test/unit';
const browser_tests = ['test/web-ui.test.ts'];
/** Tests that run `npm run temporal:cluster` and the Web UI server, built from the Go module proxy on first use. */
const cluster_tests = ['test/temporal-mtls.test.ts'];
/**
 * The longest files (seconds each on two cores, from a whole run), started first: files run two
 * at a time (scripts/run-tests.ts, in this order through scripts/test-files.ts), and a long one
 * started last would run alone at the end. Not the browser test: started beside connection-loss
 * (which cuts connections under load) its UI waited past 70 s for a signal to show (2026-12-06);
 * in path order it runs near the end, beside lighter files.
 */
const slow_first = [
  'test/connection-loss.test.ts',
  'test/payouts.test.ts',
  'test/caller-limits.test.ts',
  'test/admission.test.ts',
  'test/temporal-mtls.test.ts',
  'test/bench.test.ts',
];
/**
 * Files that run alone, after the others: the short chaos run restarts wallet processes (each a
 * tsx start and a workflow bundle, seconds of CPU) and times its faults by the clock, so beside
 * another file on two cores it stretched from 250 s alone to past 600 s (2026-12-06, a slow day
 * for the machine), while the file beside it slowed too.
 */
const run_alone = ['test/chaos.test.ts'];

/** The plan's files in two runs: the ones that share the cores, then the ones that run alone. */
export function splitRunAlone(files: readonly string[]): { together: string[]; alone: string[] } {
  const alone = (file: string) => run_alone.includes(path.relative('.', path.resolve(file)));
  return { together: files.filter((file) => !alone(file)), alone: files.filter(alone) };
}

export interface TestPlan {
  files: string[];
  /** node:test flags given on the command line (--test-name-pattern and the like), passed to every file. */
  flags: string[];
  /** A Temporal dev server and a migrated template database. */
  services: boolean;
  chromium: boolean;
  temporalServer: boolean;
  staticChecks: boolean;
}

/** node:test flags that take a value: written `--flag value`, the value would be taken for a file. */
const flags_with_values = [
  '--test-name-pattern',
  '--test-skip-pattern',
  '--test-reporter',
  '--test-reporter-destination',
  '--test-concurrency',
  '--test-timeout',
];

/** `npm test -- [node:test flags] [files or directories]`; no file means the whole suite. */
export function planOf(argv: readonly string[], skipStatic: boolean): TestPlan {
  const flags = argv.filter((argument) => argument.startsWith('--'));
  const split = flags.find((flag) => flags_with_values.includes(flag));
  if (split) throw new Error(`write ${split}=VALUE (with "="): a separate value would be taken for a test file`);
  const chosen = argv.filter((argument) => !argument.startsWith('--'));
  const files = (chosen.length > 0 ? chosen : ['test']).flatMap(testFilesAt);
  if (files.length === 0) throw new Error(`no test files in ${chosen.join(' ')}`);
  const relative = files.map((file) => path.relative('.', path.resolve(file)));
  return {
    files: slowFirst(files),
    flags,
    services: relative.some((file) => !isUnit(file)),
    chromium: relative.some((file) => browser_tests.includes(file)),
    temporalServer: relative.some((file) => cluster_tests.includes(file)),
    staticChecks: chosen.length === 0 && !skipStatic,
  };
}

/** The files in slow_first's order, then the rest as they were (the sort is stable). */
function slowFirst(files: string[]): string[] {
  const rank = (file: string) => {
    const index = slow_first.indexOf(path.relative('.', path.resolve(file)));
    return index === -1 ? slow_first.length : index;
  };
  return [...files].sort((a, b) => rank(a) - rank(b));
}

function isUnit(file: string): boolean {
  return file.startsWith(`${unit_dir}/`);
}

/** A file as given, or every *.test.ts under a directory. */
function testFilesAt(target: string): string[] {
  if (!statSync(target, { throwIfNoEntry: false })?.isDirectory()) return [target];
  return readdirSync(target, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

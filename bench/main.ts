/**
 * `npm run bench [-- options]`: transfer throughput, latency and cost per process, against the
 * bench's own throwaway stack or a running deployment (`--target`), beside two baselines (the
 * engine's floor and raw PostgreSQL). Options: `npm run bench -- --help`.
 */
import { Cleanup } from './cleanup';
import { bench_usage, parseBenchOptions } from './options';
import { writeReport } from './report/write';
import { payoutsReconciled } from './payouts';
import { runPayroll } from './payroll';
import { runBench } from './run';
import { markStopping } from './stack/children';

async function main(): Promise<number> {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options === 'help') {
    console.log(bench_usage);
    return 0;
  }
  const cleanup = new Cleanup();
  // Ctrl-C at any point still stops every process and drops every database the bench made.
  const interrupt = () => {
    console.error('bench: interrupted; cleaning up');
    markStopping();
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  try {
    if (options.mode === 'payroll') {
      console.log(await runPayroll(options, stamp, cleanup));
      return 0;
    }
    const report = await runBench(options, stamp, cleanup);
    const { markdown, jsonPath } = await writeReport(report, options.out_dir, stamp);
    console.log(markdown);
    console.error(`bench: report written to ${jsonPath} (and latest.json, latest.md)`);
    const payoutsOk = report.payouts === null || payoutsReconciled(report.payouts);
    return report.checks.conserved && report.checks.all_final && payoutsOk ? 0 : 2;
  } finally {
    markStopping();
    await cleanup.runAll();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`bench: ${(error as Error).message}`);
    process.exit(1);
  },
);

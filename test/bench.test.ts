import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { BenchReport } from '../bench/report/types';

/**
 * `npm run bench` keeps working: a few seconds of load through the whole stack and both
 * baselines, against the suite's Temporal server (TEMPORAL_ADDRESS) and with databases under the
 * suite's prefix (WALLET_TEST_DB_PREFIX), so the runner's cleanup covers them. Correctness only:
 * no timing is asserted on a shared machine.
 */
describe('npm run bench', () => {
  const outDirs: string[] = [];
  after(async () => {
    for (const outDir of outDirs) await rm(outDir, { recursive: true, force: true });
  });

  it('runs all three phases and a few payouts, conserves money and leaves every transfer and payout final', async () => {
    const outDir = await mkdtemp(path.join(os.tmpdir(), 'wallet-bench-test-'));
    outDirs.push(outDir);
    // Half the transfers convert, so the ledger check counts the FX houses too. The payouts
    // (--payouts) run after the phases on the same stack: accepted, filed, submitted, settled
    // and reconciled.
    const args = [
      '--payouts',
      '5',
      '--duration',
      '3',
      '--warmup',
      '1',
      '--rate',
      '10',
      '--users',
      '20',
      '--fx',
      '0.5',
      '--baselines',
      'floor,pg',
      '--out',
      outDir,
    ];
    const { code, output } = await runBench(args);
    assert.equal(code, 0, `bench exited ${code}:\n${output}`);

    const report = JSON.parse(await readFile(path.join(outDir, 'latest.json'), 'utf8')) as BenchReport;
    assert.deepEqual(
      report.phases.map((phase) => phase.name),
      ['transfers', 'floor', 'raw_pg'],
    );
    for (const phase of report.phases) {
      assert.deepEqual(phase.errors, {}, `${phase.name} errors`);
      assert.deepEqual(phase.warmup_errors, {}, `${phase.name} warmup errors`);
      assert.ok(phase.completed > 0, `${phase.name} completed nothing`);
      assert.ok(
        phase.processes.some((part) => part.name === 'postgres'),
        `${phase.name} has no PostgreSQL cost`,
      );
    }
    assert.equal(report.checks.conserved, true);
    assert.equal(report.checks.all_final, true);
    assert.equal(report.checks.ledger?.transfers_not_final, 0);
    assert.notEqual(report.ratios.transfer_to_floor, null);
    assert.notEqual(report.ratios.transfer_to_pg, null);
    const payouts = report.payouts!;
    assert.equal(payouts.payouts, 5);
    assert.deepEqual(payouts.files, [{ file_sequence: 1, entries: 5 }]);
    assert.deepEqual(payouts.reconciliation, { ok: true, break_count: 0, matched: 5 });
    for (const [stage, seconds] of Object.entries(payouts.seconds)) assert.ok(seconds >= 0, `${stage}: ${seconds}`);
    const markdown = await readFile(path.join(outDir, 'latest.md'), 'utf8');
    assert.match(markdown, /Money conserved: yes/);
    assert.match(markdown, /## Payouts: 5 from 5 payers/);
  });
});

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/main.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

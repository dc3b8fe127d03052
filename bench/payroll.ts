import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forEachLimited } from '../workers/for-each-limited';
import type { Cleanup } from './cleanup';
import { httpErrorOf, type HttpClient } from './load/http';
import { benchUsers } from './load/users';
import type { BenchOptions } from './options';
import { seededOpsClient } from './seed/api';
import { connectTarget } from './stack/target';
import { startThrowawayStack } from './stack/throwaway';
import { bench_currency } from './targets/http-transfers';

/** A salary: small enough that 1,000 stay under the default daily limit and no item is held for review. */
const salary_minor = 5_000;
/** Single transfers in flight at once: the former fixed admission bound (TRANSFERS_IN_FLIGHT_MAX, 32, replaced by admission by queueing delay). */
const singles_in_flight = 32;
/** A 503 (admission, busy shard) is retried after this, with the same key. */
const overloaded_retry_ms = 200;
const final_statuses = new Set(['COMPLETED', 'FAILED', 'REVERSED']);

interface PayrollRun {
  name: string;
  /** The batch workflow's history when it closed: events, and bytes as JSON (payloads encrypted, as stored). */
  history?: { events: number; json_bytes: number };
  transfers: number;
  payers: number;
  seconds_to_all_final: number;
  per_s: number;
  completed: number;
  failed: number;
  retried_503: number;
}

/**
 * `npm run bench -- --mode payroll --payroll-items N`: one batch of N items from one payer, timed
 * from the POST until every item is final; then N single transfers from that one payer (the hot
 * account without a batch), and N single transfers from N different payers (no hot account). The
 * last two, side by side, show whether the row lock on the payer's balance binds.
 */
export async function runPayroll(options: BenchOptions, stamp: string, cleanup: Cleanup): Promise<string> {
  const items = options.payroll_items;
  const logDir = path.resolve(options.out_dir, 'logs', stamp);
  mkdirSync(logDir, { recursive: true });
  const runTag = randomBytes(3).toString('hex');
  const stack =
    options.targets.length > 0 ? await connectTarget(options) : await startThrowawayStack(options, logDir, cleanup);
  const users = benchUsers(runTag, Math.max(options.users, items + 1), stack.shardCount, false);
  const client = await seededOpsClient(stack, options.outstanding_max, users, runTag, cleanup);
  const payer = users.all[0]!;
  const recipients = users.all.slice(1, items + 1);

  const runs: PayrollRun[] = [];
  console.error(`bench: payroll: one batch of ${items} items from ${payer}`);
  const batch = await oneBatch(client, payer, recipients, runTag);
  runs.push({ ...batch.run, history: await historyOf(stack.temporalAddress, batch.batchId) });
  console.error(`bench: payroll: ${items} single transfers from the same payer`);
  runs.push(
    await singles(
      client,
      'single transfers, one payer',
      recipients.map((to) => [payer, to] as const),
      `${runTag}-hot`,
    ),
  );
  console.error(`bench: payroll: ${items} single transfers from ${items} payers`);
  const spread = recipients.map((from, index) => [from, users.all[(index + 2) % users.all.length]!] as const);
  runs.push(await singles(client, 'single transfers, one payer each', spread, `${runTag}-spread`));

  const report = {
    started_at: stamp,
    options,
    environment: { node: process.version, cpus: os.cpus().length, load_average: os.loadavg() },
    runs,
  };
  mkdirSync(options.out_dir, { recursive: true });
  writeFileSync(path.join(options.out_dir, `payroll-${stamp}.json`), JSON.stringify(report, null, 2));
  return markdownOf(runs);
}

/** The batch workflow's history once it closed (it records the batch COMPLETED just after the last item). */
async function historyOf(address: string, batchId: string): Promise<{ events: number; json_bytes: number }> {
  const connection = await Connection.connect({ address });
  try {
    const handle = new Client({ connection, namespace: 'default' }).workflow.getHandle(batchId);
    await handle.result().catch(() => undefined);
    const events = (await handle.fetchHistory()).events ?? [];
    return { events: events.length, json_bytes: JSON.stringify(events).length };
  } finally {
    await connection.close();
  }
}

async function oneBatch(
  client: HttpClient,
  payer: string,
  recipients: string[],
  runTag: string,
): Promise<{ run: PayrollRun; batchId: string }> {
  const origin = client.pickOrigin();
  const body = {
    from_user_id: payer,
    idempotency_key: `${runTag}-payroll`,
    items: recipients.map((to, index) => ({
      to_user_id: to,
      amount: salary_minor,
      currency: bench_currency,
      idempotency_key: `${runTag}-salary-${index}`,
      note: 'salary',
    })),
  };
  const started = performance.now();
  const accepted = await client.json('POST', origin, '/v1/wallet/transfer-batches', body);
  if (accepted.status !== 202) throw new Error(`the payroll batch: ${httpErrorOf(accepted).kind}`);
  const batchId = (accepted.body as { batch_id: string }).batch_id;
  for (;;) {
    const read = await client.json('GET', origin, `/v1/wallet/transfer-batches/${batchId}?wait=30&limit=1`);
    const state = read.body as { status: string; counts: Record<string, number> };
    if (state.status === 'COMPLETED') {
      const seconds = (performance.now() - started) / 1000;
      const run = {
        name: 'one batch',
        transfers: recipients.length,
        payers: 1,
        seconds_to_all_final: round(seconds),
        per_s: round(recipients.length / seconds),
        completed: state.counts.COMPLETED ?? 0,
        failed: state.counts.FAILED ?? 0,
        retried_503: 0,
      };
      return { run, batchId };
    }
  }
}

/** Sends the pairs as single transfers, `singles_in_flight` at a time (each until final, with ?wait). */
async function singles(
  client: HttpClient,
  name: string,
  pairs: readonly (readonly [string, string])[],
  keyPrefix: string,
): Promise<PayrollRun> {
  let retried = 0;
  const outcomes = { completed: 0, failed: 0 };
  const started = performance.now();
  await forEachLimited(
    pairs.map((pair, index) => ({ pair, index })),
    singles_in_flight,
    async ({ pair: [from, to], index }) => {
      const body = {
        from_user_id: from,
        to_user_id: to,
        amount: salary_minor,
        currency: bench_currency,
        idempotency_key: `${keyPrefix}-${index}`,
      };
      const origin = client.pickOrigin();
      for (;;) {
        const answer = await client.json('POST', origin, '/v1/wallet/transfers?wait=30', body);
        const status = (answer.body as { status?: string }).status;
        if (answer.status === 503) {
          retried++;
          await new Promise((resolve) => setTimeout(resolve, overloaded_retry_ms));
          continue;
        }
        if (answer.status !== 200 || !status) throw new Error(`${name}: ${httpErrorOf(answer).kind}`);
        if (final_statuses.has(status)) {
          outcomes[status === 'COMPLETED' ? 'completed' : 'failed']++;
          return;
        }
      }
    },
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    name,
    transfers: pairs.length,
    payers: new Set(pairs.map(([from]) => from)).size,
    seconds_to_all_final: round(seconds),
    per_s: round(pairs.length / seconds),
    ...outcomes,
    retried_503: retried,
  };
}

function markdownOf(runs: PayrollRun[]): string {
  return [
    '| run | transfers | payers | seconds until all final | transfers/s | completed | failed | 503s retried | batch history |',
    '|---|---|---|---|---|---|---|---|---|',
    ...runs.map(
      (run) =>
        `| ${run.name} | ${run.transfers} | ${run.payers} | ${run.seconds_to_all_final} | ${run.per_s} | ${run.completed} | ${run.failed} | ${run.retried_503} | ${run.history ? `${run.history.events} events, ${Math.round(run.history.json_bytes / 1024)} kB` : ''} |`,
    ),
  ].join('\n');
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

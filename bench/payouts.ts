import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import pg from 'pg';
import { forEachLimited } from '../workers/for-each-limited';
import { httpErrorOf, type HttpClient } from './load/http';
import type { BenchUsers } from './load/users';
import { bench_bank_day_ms } from './stack/bank';
import type { BenchStack } from './stack/types';
import { bench_currency } from './targets/http-transfers';

/** One payout: small, so ten per user stay far below the daily limit and the review threshold. */
const payout_minor = 100;
/** Payout requests in flight at once while accepting (as the payroll bench sends single transfers). */
const requests_in_flight = 32;
/** A 503 (admission) is retried after this, with the same key. */
const overloaded_retry_ms = 200;
const poll_ms = 250;
/** Longest any one stage may take before the bench gives up on it. */
const stage_timeout_ms = 60 * 60_000;

export interface PayoutStages {
  payouts: number;
  payers: number;
  files: { file_sequence: number; entries: number }[];
  bank_day_s: number;
  /** Seconds of each stage, each from the end of the one before. */
  seconds: {
    /** The first POST until every payout answered 202. */
    accept_202: number;
    /** The first POST until every payout is HELD (its amount held on its shard). */
    accept_held: number;
    /** The cutoff's start until its last file is recorded (payouts claimed, bank accounts read, built through moov-io/ach). */
    batch_build: number;
    /** From there until every payout is SUBMITTED (uploaded, and each payout told). */
    submit: number;
    /** Of which: the last file's upload, as the wallet recorded it (recorded_at to uploaded_at). */
    submit_upload: number;
    /** From there until every payout is SETTLED (the bank's day, then the feed signals each). */
    settle: number;
    /** The settlement reconciliation run of the day, as ops starts it (POST /v1/ops/settlement/{date}). */
    reconcile: number;
  };
  reconciliation: { ok: boolean; break_count: number; matched: number };
  retried_503: number;
}

/**
 * `--payouts N` (issue 19): N payouts through the whole rail on the stack the phases just
 * measured. Accepted through the API, then one cutoff run per file (a file holds at most
 * 10,000), the bank's day, the feed until all are SETTLED, and the day's settlement
 * reconciliation, which must match every one with no break. Progress is read from the shards.
 */
export async function runPayoutStages(
  stack: BenchStack,
  client: HttpClient,
  users: BenchUsers,
  runTag: string,
  count: number,
): Promise<PayoutStages> {
  if (!stack.shardUrls || !stack.taskQueue) throw new Error('--payouts needs the throwaway stack');
  const shards = stack.shardUrls.map((connectionString) => new pg.Pool({ connectionString, max: 2 }));
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    const temporal = new Client({ connection, namespace: 'default' });
    const progress = payoutProgress(shards, count);
    const payers = users.all.slice(0, Math.min(users.all.length, count));
    console.error(`bench: payouts: a bank account for each of ${payers.length} payers`);
    const accounts = await registerBankAccounts(client, payers);

    console.error(`bench: payouts: accepting ${count}`);
    const accept = await acceptPayouts(client, payers, accounts, runTag, count);
    const held_ms = await progress.until('HELD');
    const since = (from: number) => `${Math.round(Date.now() - from) / 1000} s`;
    console.error(`bench: payouts: ${count} HELD after ${since(accept.started_ms)}; the cutoff`);
    const cut = await runCutoffs(temporal, stack.taskQueue, runTag, progress);
    const submitted_ms = await progress.until('SUBMITTED');
    console.error(
      `bench: payouts: ${count} SUBMITTED in ${cut.files.length} file(s) ${since(cut.started_ms)} after the cutoff began; the bank's day`,
    );
    const settled_ms = await runFeedUntilSettled(temporal, stack.taskQueue, runTag, progress);
    console.error(`bench: payouts: ${count} SETTLED ${since(submitted_ms)} later; reconciling the day`);
    const reconcile = await reconcileToday(client);
    const seconds = (from: number, to: number) => Math.round(to - from) / 1000;
    return {
      payouts: count,
      payers: payers.length,
      files: cut.files,
      bank_day_s: bench_bank_day_ms / 1000,
      seconds: {
        accept_202: seconds(accept.started_ms, accept.answered_ms),
        accept_held: seconds(accept.started_ms, held_ms),
        batch_build: seconds(cut.started_ms, cut.recorded_ms),
        submit: seconds(cut.recorded_ms, submitted_ms),
        submit_upload: seconds(cut.recorded_ms, cut.uploaded_ms),
        settle: seconds(submitted_ms, settled_ms),
        reconcile: reconcile.seconds,
      },
      reconciliation: reconcile.result,
      retried_503: accept.retried,
    };
  } finally {
    await connection.close();
    await Promise.all(shards.map((pool) => pool.end()));
  }
}

/** Counts of payouts by status over every shard (the bench's own databases hold only its payouts). */
function payoutProgress(shards: pg.Pool[], count: number) {
  const countOf = async (status: string) => {
    const counts = await Promise.all(
      shards.map((pool) =>
        pool.query<{ n: number }>('select count(*)::int as n from payouts where status = $1::text', [status]),
      ),
    );
    return counts.reduce((sum, found) => sum + found.rows[0]!.n, 0);
  };
  return {
    count,
    countOf,
    /** Waits until all `count` payouts have `status`; answers the moment it saw them (ms since the epoch). */
    async until(status: string): Promise<number> {
      const deadline_ms = Date.now() + stage_timeout_ms;
      for (;;) {
        const seen = await countOf(status);
        if (seen === count) return Date.now();
        if (Date.now() > deadline_ms)
          throw new Error(`payouts: ${seen} of ${count} ${status} after the stage's timeout`);
        await sleep(poll_ms);
      }
    },
    /** The payout files the run made: their sizes, and when the last one was recorded. */
    async files(): Promise<{ file_sequence: number; entries: number; recorded_ms: number; uploaded_ms: number }[]> {
      const found = await shards[0]!.query<{
        file_sequence: string;
        entry_count: number;
        recorded_at: Date;
        uploaded_at: Date;
      }>(
        `select file_sequence::text, entry_count, recorded_at, uploaded_at from payout_files
          where recorded_at is not null order by file_sequence`,
      );
      return found.rows.map((row) => ({
        file_sequence: Number(row.file_sequence),
        entries: row.entry_count,
        recorded_ms: row.recorded_at.getTime(),
        uploaded_ms: row.uploaded_at.getTime(),
      }));
    },
  };
}

type Progress = ReturnType<typeof payoutProgress>;

/** One account per payer, ending in 0001 so the bank's test matrix settles every entry and returns none. */
async function registerBankAccounts(client: HttpClient, payers: readonly string[]): Promise<Map<string, string>> {
  const accounts = new Map<string, string>();
  await forEachLimited(
    payers.map((userId, index) => ({ userId, index })),
    requests_in_flight,
    async ({ userId, index }) => {
      const answer = await client.json('POST', client.pickOrigin(), `/v1/wallet/${userId}/bank-accounts`, {
        routing_number: '021000021',
        account_number: `${String(index).padStart(8, '0')}0001`,
        holder_name: 'Bench Payee',
        account_type: 'checking',
      });
      if (answer.status !== 201) throw new Error(`a bank account for ${userId}: ${httpErrorOf(answer).kind}`);
      accounts.set(userId, (answer.body as { bank_account_id: string }).bank_account_id);
    },
  );
  return accounts;
}

/** Every payout requested, round-robin over the payers; each must answer 202. */
async function acceptPayouts(
  client: HttpClient,
  payers: readonly string[],
  accounts: ReadonlyMap<string, string>,
  runTag: string,
  count: number,
): Promise<{ started_ms: number; answered_ms: number; retried: number }> {
  let retried = 0;
  const started_ms = Date.now();
  await forEachLimited(
    Array.from({ length: count }, (_, index) => index),
    requests_in_flight,
    async (index) => {
      const userId = payers[index % payers.length]!;
      const body = {
        bank_account_id: accounts.get(userId)!,
        amount: payout_minor,
        currency: bench_currency,
        idempotency_key: `${runTag}-payout-${index}`,
      };
      for (;;) {
        const answer = await client.json('POST', client.pickOrigin(), `/v1/wallet/${userId}/payouts`, body);
        if (answer.status === 202) return;
        if (answer.status !== 503) throw new Error(`payout ${index}: ${httpErrorOf(answer).kind}`);
        retried++;
        await sleep(overloaded_retry_ms);
      }
    },
  );
  return { started_ms, answered_ms: Date.now(), retried };
}

/**
 * Cutoffs as the `wallet-payout-cutoff` Schedule runs them (payoutCutoffWorkflow on the wallet's
 * task queue), one after another until no payout is HELD: each takes at most one file's worth.
 */
async function runCutoffs(temporal: Client, taskQueue: string, runTag: string, progress: Progress) {
  const started_ms = Date.now();
  for (let run = 0; (await progress.countOf('HELD')) > 0; run++) {
    await completed(
      await temporal.workflow.start('payoutCutoffWorkflow', {
        taskQueue,
        workflowId: `bench-${runTag}-cutoff-${run}`,
        args: [],
      }),
    );
  }
  const files = await progress.files();
  const last = files[files.length - 1]!;
  return {
    started_ms,
    recorded_ms: last.recorded_ms,
    uploaded_ms: last.uploaded_ms,
    files: files.map(({ file_sequence, entries }) => ({ file_sequence, entries })),
  };
}

/** The feed (payoutInboundWorkflow) run again and again, as its Schedule would, until every payout is SETTLED. */
async function runFeedUntilSettled(temporal: Client, taskQueue: string, runTag: string, progress: Progress) {
  const deadline_ms = Date.now() + stage_timeout_ms;
  for (let run = 0; ; run++) {
    const settled = await progress.countOf('SETTLED');
    if (settled === progress.count) return Date.now();
    if (Date.now() > deadline_ms)
      throw new Error(`payouts: ${settled} of ${progress.count} SETTLED after the stage's timeout`);
    await completed(
      await temporal.workflow.start('payoutInboundWorkflow', {
        taskQueue,
        workflowId: `bench-${runTag}-inbound-${run}`,
        args: [],
      }),
    );
    await sleep(poll_ms);
  }
}

/** Waits for a workflow to close without reading its result (its payloads are encrypted with the wallet's keys). */
async function completed(handle: WorkflowHandle): Promise<void> {
  for (;;) {
    const { status } = await handle.describe();
    if (status.name === 'COMPLETED') return;
    if (status.name !== 'RUNNING') throw new Error(`${handle.workflowId} ended ${status.name}`);
    await sleep(poll_ms);
  }
}

/** The day's settlement reconciliation through the ops API; a run over a minute answers 202 and is read back. */
async function reconcileToday(client: HttpClient) {
  const date = new Date().toISOString().slice(0, 10);
  const origin = client.pickOrigin();
  const started_ms = Date.now();
  let answer = await client.json('POST', origin, `/v1/ops/settlement/${date}`);
  // Running on: read the latest run of the day until it is there (404 until it is recorded).
  for (let later = answer.status === 202; later && Date.now() - started_ms < stage_timeout_ms;) {
    await sleep(poll_ms);
    answer = await client.json('GET', origin, `/v1/ops/settlement/${date}`);
    later = answer.status === 404;
  }
  if (answer.status !== 200) throw new Error(`settlement reconciliation: ${httpErrorOf(answer).kind}`);
  const seconds = Math.round(Date.now() - started_ms) / 1000;
  const run = answer.body as { ok: boolean; break_count: number; report: { matched: { count: number } } };
  return { seconds, result: { ok: run.ok, break_count: run.break_count, matched: run.report.matched.count } };
}

/** The run's payouts all matched the bank's statement, with no break. */
export function payoutsReconciled(stages: PayoutStages): boolean {
  const { ok, break_count, matched } = stages.reconciliation;
  return ok && break_count === 0 && matched === stages.payouts;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { transferIdFor } from '../domain/transfer-ids';
import { sleep, type ChaosClient } from './client';
import type { InvariantResult } from './invariants';
import type { LedgerSnapshot } from './ledger';
import type { ChaosStack } from './stack';
import { ops_operator } from './workload';

/** Payroll batches in the mix (issue 18): this many, of this many items, one with a wallet killed while it runs. */
const batches_per_run = 3;
const items_per_batch = 25;
const item_amount_minor = 100;
/** The wallet killed during the first batch stays down this long. */
const batch_kill_down_ms = 2_000;
/** A batch's GET waits this long at a time for every item to be final. */
const batch_wait_s = 10;
/** Past this, a batch that is still RUNNING is a broken run. */
const batch_final_within_ms = 120_000;

export interface BatchRun {
  batch_id: string;
  payer: string;
  /** The transfer id each item must become: its key's, as a single POST would name it. */
  item_ids: string[];
  /** Items by status as the batch's GET last told them. */
  counts: Record<string, number>;
  status: string;
  killed_wallet: string | null;
}

/**
 * Submits the batches one after another: right after the first is accepted the wallet that
 * accepted it is killed (kill -9), and restarted after a pause; the batch must still end with
 * every item final exactly once. Runs after the fault schedule, so its kill never meets one.
 */
export async function runBatches(
  stack: ChaosStack,
  client: ChaosClient,
  users: readonly string[],
  seed: number,
): Promise<BatchRun[]> {
  const runs: BatchRun[] = [];
  const ops = { sub: ops_operator, role: 'ops' as const };
  for (let batch = 0; batch < batches_per_run; batch++) {
    const payer = users[batch % users.length]!;
    const recipients = users.filter((user) => user !== payer);
    const items = Array.from({ length: items_per_batch }, (_, index) => ({
      to_user_id: recipients[(batch * items_per_batch + index) % recipients.length]!,
      amount: item_amount_minor,
      currency: 'USD',
      idempotency_key: `chaos-${seed}-batch-${batch}-item-${index}`,
    }));
    const accepted = await client.retrying('POST', '/v1/wallet/transfer-batches', ops, {
      from_user_id: payer,
      idempotency_key: `chaos-${seed}-batch-${batch}`,
      items,
    });
    if (accepted.status !== 202)
      throw new Error(`batch ${batch} answered ${accepted.status} ${JSON.stringify(accepted.body)}`);
    let killed: string | null = null;
    if (batch === 0) {
      const wallet = stack.wallets[0]!;
      await wallet.kill();
      await sleep(batch_kill_down_ms);
      await wallet.start();
      killed = wallet.name;
    }
    const batchId = accepted.body.batch_id as string;
    const deadline = Date.now() + batch_final_within_ms;
    let state: { status: string; counts: Record<string, number> };
    do {
      const read = await client.retrying(
        'GET',
        `/v1/wallet/transfer-batches/${batchId}?wait=${batch_wait_s}&limit=1`,
        ops,
      );
      state = read.body as typeof state;
    } while (state.status !== 'COMPLETED' && Date.now() < deadline);
    runs.push({
      batch_id: batchId,
      payer,
      item_ids: items.map((item) => transferIdFor('transfer', payer, item.idempotency_key)),
      counts: state.counts,
      status: state.status,
      killed_wallet: killed,
    });
  }
  return runs;
}

/**
 * Invariant 12: every batch completed, and each of its items is one transfer (its key's id),
 * final, its debit decided once, counted once by the batch.
 */
export function batchesFinalOnce(snapshot: LedgerSnapshot, runs: readonly BatchRun[]): InvariantResult {
  const examples: string[] = [];
  let items = 0;
  let final = 0;
  for (const run of runs) {
    const counted = Object.values(run.counts).reduce((sum, count) => sum + count, 0);
    if (run.status !== 'COMPLETED') examples.push(`${run.batch_id}: ${run.status} ${JSON.stringify(run.counts)}`);
    if (counted !== run.item_ids.length)
      examples.push(`${run.batch_id}: counts ${counted} items, asked ${run.item_ids.length}`);
    for (const id of run.item_ids) {
      items++;
      const record = snapshot.transfers.get(id);
      const debits = (snapshot.legs.get(id) ?? []).filter((leg) => leg.leg === 'debit');
      if (!record || !['COMPLETED', 'FAILED', 'REVERSED'].includes(record.status))
        examples.push(`${run.batch_id} item ${id}: ${record?.status ?? 'no record'}`);
      else if (debits.length !== 1) examples.push(`${run.batch_id} item ${id}: ${debits.length} debit decisions`);
      else final++;
    }
  }
  const killed = runs.filter((run) => run.killed_wallet !== null).map((run) => `${run.killed_wallet} killed`);
  return {
    id: 12,
    name: 'every batch item ends final exactly once, a wallet killed during a batch included',
    held: examples.length === 0 && runs.length > 0,
    figures: `${runs.length} batches (${killed.join(', ') || 'no kill'}), ${items} items, ${final} final with one debit`,
    examples: examples.slice(0, 5),
  };
}

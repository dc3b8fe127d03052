import type pg from 'pg';
import { customerAccountId } from '../../ledger/accounts';
import { postLeg, type PostingRequest } from '../../ledger/postings';
import { RequestError } from '../load/errors';
import type { LoadTarget } from '../load/target';
import type { TransferPlan } from '../load/workload';
import { bench_currency } from './http-transfers';

/**
 * The raw PostgreSQL baseline: each transfer is one local transaction on one database doing the
 * debit leg and the credit leg with the ledger's own code (postLeg), both parties on that one
 * shard. It is what the ledger costs with no engine, no API and no second shard.
 */
export function rawPgTarget(pool: pg.Pool): LoadTarget {
  return {
    phase: 'raw_pg',
    async submit(plan: TransferPlan, key: string) {
      const transferId = `raw_${key}`;
      const client = await pool.connect();
      try {
        await client.query('begin');
        // Both wallets locked up front in one order: each leg also locks the shard's clearing row
        // until commit, so wallets locked leg by leg would deadlock pairs sent in opposite directions.
        await client.query({
          name: 'bench_lock_pair',
          text: 'select 1 from accounts where account_id = any($1::text[]) order by account_id for no key update',
          values: [
            [customerAccountId(plan.fromUserId, bench_currency), customerAccountId(plan.toUserId, bench_currency)],
          ],
        });
        await postOrRefuse(client, rawLeg(transferId, 'debit', plan.fromUserId, -plan.amountMinor));
        await postOrRefuse(client, rawLeg(transferId, 'credit', plan.toUserId, plan.amountMinor));
        await client.query('commit');
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        if (error instanceof RequestError) throw error;
        throw new RequestError(`pg_${(error as { code?: string }).code ?? 'error'}`);
      } finally {
        client.release();
      }
      return { transferId, final: true };
    },
    async awaitFinal() {
      // Committed in submit: there is nothing left to wait for.
    },
  };
}

async function postOrRefuse(client: pg.PoolClient, request: PostingRequest): Promise<void> {
  const result = await postLeg(client, request);
  if (result.outcome !== 'posted')
    throw new RequestError(`failed_${result.outcome === 'refused' ? result.reason : 'voided'}`);
}

function rawLeg(
  transferId: string,
  leg: 'debit' | 'credit',
  userId: string,
  customerDeltaMinor: bigint,
): PostingRequest {
  return {
    transferId,
    leg,
    userId,
    customerDeltaMinor,
    currency: bench_currency,
    counterparty: 'clearing',
    customerEntryKind: leg === 'debit' ? 'transfer_out' : 'transfer_in',
    ignoreHolds: false,
    workflowId: 'bench-raw-pg',
    runId: 'bench-raw-pg',
  };
}

import type { HttpClient } from './load/http';
import type { UnsettledRequest } from './load/recorder';
import type { LoadTarget } from './load/target';
import type { BenchUsers } from './load/users';
import type { BenchReport } from './report/types';
import { funding_per_user_minor } from './seed/api';
import type { BenchStack } from './stack/types';
import { checkThroughApi } from './verify/api';
import { checkLedger } from './verify/ledger';

/**
 * After the load: the shard databases checked directly when the bench owns them, the API
 * otherwise, and the raw baseline's database; money conserved and every transfer final overall.
 */
export async function runChecks(
  stack: BenchStack,
  client: HttpClient,
  walletTarget: LoadTarget,
  unsettled: UnsettledRequest[],
  users: BenchUsers,
  rawUrl: string | undefined,
): Promise<BenchReport['checks']> {
  const funded_total_minor = funding_per_user_minor * BigInt(users.all.length);
  const ledger = stack.shardUrls ? await checkLedger(stack.shardUrls, funded_total_minor) : null;
  const api = stack.shardUrls
    ? null
    : await checkThroughApi(client, walletTarget, unsettled, users.all, funded_total_minor);
  const raw_pg = rawUrl ? await checkLedger([rawUrl], funded_total_minor) : null;
  const all = [ledger, api, raw_pg].filter((check) => check !== null);
  return {
    ledger,
    api,
    raw_pg,
    conserved: all.every((check) => check.conserved),
    all_final: all.every((check) => check.all_final),
  };
}

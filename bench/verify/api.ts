import { errorKindOf } from '../load/errors';
import { httpErrorOf, type HttpClient } from '../load/http';
import type { UnsettledRequest } from '../load/recorder';
import type { LoadTarget } from '../load/target';
import { bench_currency } from '../targets/http-transfers';
import { forEachLimited } from '../../workers/for-each-limited';

export interface ApiCheck {
  /** Requests whose fate the load run did not learn, settled here. */
  unsettled_checked: number;
  transfers_not_final: number;
  users_checked: number;
  balance_total_minor: string;
  funded_total_minor: string;
  conserved: boolean;
  all_final: boolean;
}

const check_concurrency = 16;
const settle_deadline_ms = 60_000;

/**
 * The checks a deployment allows through its API (`--target`): every request whose outcome the
 * run did not learn is resolved (a submission that may not have arrived is sent again with its
 * idempotency key, which can only find or make the same transfer) and awaited, and the benchmark
 * users' balances add up to exactly what was deposited.
 */
export async function checkThroughApi(
  client: HttpClient,
  walletTarget: LoadTarget,
  unsettled: readonly UnsettledRequest[],
  userIds: readonly string[],
  funded_total_minor: bigint,
): Promise<ApiCheck> {
  let notFinal = 0;
  await forEachLimited(unsettled, check_concurrency, async (request) => {
    const deadline_ms = performance.now() + settle_deadline_ms;
    try {
      const transferId =
        request.transferId ?? (await walletTarget.submit(request.plan, request.key, deadline_ms)).transferId;
      await walletTarget.awaitFinal(transferId, deadline_ms);
    } catch (error) {
      // A refusal is final; anything else leaves the transfer unaccounted for.
      if (!errorKindOf(error).startsWith('failed_')) notFinal++;
    }
  });
  let total = 0n;
  await forEachLimited(userIds, check_concurrency, async (userId) => {
    const answer = await client.json('GET', client.pickOrigin(), `/v1/wallet/${userId}/balance`);
    if (answer.status !== 200) throw new Error(`balance of ${userId}: ${httpErrorOf(answer).kind}`);
    const lines = (answer.body as { balances: { currency: string; amount: number }[] }).balances;
    total += BigInt(lines.find((line) => line.currency === bench_currency)?.amount ?? 0);
  });
  return {
    unsettled_checked: unsettled.length,
    transfers_not_final: notFinal,
    users_checked: userIds.length,
    balance_total_minor: total.toString(),
    funded_total_minor: funded_total_minor.toString(),
    conserved: total === funded_total_minor,
    all_final: notFinal === 0,
  };
}

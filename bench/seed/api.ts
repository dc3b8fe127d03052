import { shardForUser } from '../../domain/shard-routing';
import { signToken } from '../../api/auth';
import type { Cleanup } from '../cleanup';
import { HttpClient, httpErrorOf } from '../load/http';
import type { BenchUsers } from '../load/users';
import type { BenchStack } from '../stack/types';
import { bench_currency, bench_fx_currency, bench_fx_rate } from '../targets/http-transfers';
import { forEachLimited } from '../../workers/for-each-limited';

/** What every benchmark user starts with: 1,000,000.00, far more than a run moves, so no transfer is refused. */
export const funding_per_user_minor = 100_000_000n;

/** Seeding is setup, not measurement: enough in parallel to be quick, not so many that it floods a small stack. */
const seed_concurrency = 16;

/**
 * The ops HTTP client a run drives the stack with (closed at cleanup), once it has created and
 * funded the run's users through it.
 */
export async function seededOpsClient(
  stack: Pick<BenchStack, 'walletOrigins' | 'tokenSecret' | 'shardCount'>,
  outstandingMax: number,
  users: BenchUsers,
  runTag: string,
  cleanup: Cleanup,
): Promise<HttpClient> {
  const client = new HttpClient(
    stack.walletOrigins,
    await signToken(stack.tokenSecret, { userId: 'bench_ops', role: 'ops' }),
    outstandingMax,
  );
  cleanup.add('close HTTP client', () => client.close());
  console.error(`bench: creating and funding ${users.all.length} users`);
  await seedThroughApi(client, users, stack.shardCount, runTag);
  return client;
}

/**
 * Creates the benchmark users through the API and funds each with one deposit (a transfer
 * workflow of its own), waiting for each to complete. Fails if the target routes users to other
 * shards than `--shards` says, since same-shard and cross-shard pairs would then be wrong.
 */
async function seedThroughApi(
  client: HttpClient,
  users: BenchUsers,
  shardCount: number,
  runTag: string,
): Promise<void> {
  // The rate `--fx` transfers convert at; setting it again is harmless (a new row in its history).
  const rated = await client.json(
    'PUT',
    client.pickOrigin(),
    `/v1/ops/fx/rates/${bench_currency}/${bench_fx_currency}`,
    { rate: bench_fx_rate, reason: 'bench' },
  );
  if (rated.status !== 200) throw new Error(`setting the bench's FX rate: ${httpErrorOf(rated).kind}`);
  await forEachLimited(users.all, seed_concurrency, async (userId) => {
    const origin = client.pickOrigin();
    const created = await client.json('POST', origin, '/v1/wallet/users', { user_id: userId });
    if (created.status !== 201) throw new Error(`creating ${userId}: ${httpErrorOf(created).kind}`);
    const shard = (created.body as { shard?: number }).shard;
    if (shard !== undefined && shard !== shardForUser(userId, shardCount)) {
      throw new Error(
        `the target put ${userId} on shard ${shard}, not ${shardForUser(userId, shardCount)}: set --shards to the target's shard count`,
      );
    }
    const deposit = {
      amount: Number(funding_per_user_minor),
      currency: bench_currency,
      idempotency_key: `${runTag}-seed-${userId}`,
    };
    const funded = await client.json('POST', origin, `/v1/wallet/${userId}/deposits?wait=30`, deposit);
    const status = (funded.body as { status?: string }).status;
    if (funded.status !== 200 || status !== 'COMPLETED')
      throw new Error(`funding ${userId}: ${status ?? httpErrorOf(funded).kind}`);
  });
}

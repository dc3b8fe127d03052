import { ApplicationFailure } from '@temporalio/activity';
import { isShardBusy, shard_busy_failure } from '../domain/database-errors';

/**
 * A debit attempt that met a busy shard (a hot payer's row lock, a full pool: isShardBusy) ends
 * the activity with a non-retryable `shard_busy` failure instead of a retryable error, so it
 * spends none of the debit's attempts (DEBIT_ATTEMPTS_MAX, meant for a shard that cannot be
 * reached): the workflow waits on a durable timer, holding no worker slot, and debits again
 * (workflows/busy-debit.ts). Nothing moved: the attempt's transaction rolled back.
 */
export async function busyAsFinal<T>(leg: () => Promise<T>): Promise<T> {
  try {
    return await leg();
  } catch (error) {
    if (!isShardBusy(error)) throw error;
    throw ApplicationFailure.create({
      type: shard_busy_failure,
      message: `the shard was busy: ${error instanceof Error ? error.message : String(error)}`,
      nonRetryable: true,
    });
  }
}

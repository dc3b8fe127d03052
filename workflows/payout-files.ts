import { proxyActivities } from '@temporalio/workflow';
import type { PayoutFeedActivities } from '../activities/payout-feed';
import type { PayoutFileActivities } from '../activities/payout-files';

/**
 * Local steps of a cutoff: reading shards and the reference shard, building through moov-io/ach,
 * signaling payouts. They retry for as long as a cutoff interval could matter (about ten
 * minutes, backoff to 30 s); past that the run fails, the file stays where it was (recorded, not
 * uploaded) and the next tick of the Schedule finishes it first, so nothing is lost and the
 * payouts meanwhile show in GET /v1/ops/payouts?stuck=true.
 */
const cutoff_activity_options = {
  startToCloseTimeout: 120_000,
  heartbeatTimeout: 30_000,
  retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 30_000, maximumAttempts: 25 },
};

/**
 * Reading the bank: a bank that is down is asked again by the next tick, so a run gives up soon
 * (five attempts) rather than piling runs on one another (the Schedule skips overlapping ones).
 */
const feed_activity_options = {
  startToCloseTimeout: 120_000,
  heartbeatTimeout: 30_000,
  retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 5_000, maximumAttempts: 5 },
};

/**
 * One cutoff, run by the `wallet-payout-cutoff` Schedule (workers/payout-schedules.ts): the
 * payouts waiting (HELD) go into ONE file, recorded before it is uploaded; each payout hears it
 * is BATCHED, then SUBMITTED once the bank has the file. An unfinished file of an earlier run is
 * finished first. With nothing waiting, the run ends at once.
 */
export async function payoutCutoffWorkflow(): Promise<{ fileSequence: number | null }> {
  const steps = proxyActivities<PayoutFileActivities>(cutoff_activity_options);
  const file = await steps.collectPayoutFile();
  if (!file) return { fileSequence: null };
  await steps.announceBatched(file);
  await steps.uploadPayoutFile(file);
  await steps.announceUpload(file);
  return { fileSequence: file.fileSequence };
}

/**
 * One look at the bank, run by the `wallet-payout-inbound` Schedule: first what settled (each
 * uploaded file's status), then the returns in the bank's feed since the stored cursor. In that
 * order, so a payout settled and then returned hears of its settlement first.
 */
export async function payoutInboundWorkflow(): Promise<{ filesFollowed: number; filesRead: number }> {
  const steps = proxyActivities<PayoutFeedActivities>(feed_activity_options);
  const { filesFollowed } = await steps.followSettlements();
  const { filesRead } = await steps.pollReturns();
  return { filesFollowed, filesRead };
}

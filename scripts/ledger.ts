/**
 * `npm run ledger -- rebuild --shard N` (or `--all`): replays a shard's ledger entries into a
 * fresh read model and reports every difference from the live balances, and every entry whose
 * balance_after does not follow from the entries before it. Exits 1 when anything differs.
 *
 * `npm run ledger -- verify --shard N` (or `--all`): walks every account's hash chain and names
 * the first broken entry (ledger/verify.ts). Exits 1 when anything is broken.
 *
 * `npm run ledger -- balance --account ID [--shard N]`: an account's balance from its latest
 * snapshot plus the entries after it, beside the live one (ledger/snapshots.ts). A wallet's
 * shard follows from its user; clearing, settlement and fx accounts need --shard.
 */
import { parseArgs } from 'node:util';
import { config } from '../config';
import { ShardSet } from '../db/shards';
import { rebuildShard } from '../ledger/rebuild';
import { balanceFromSnapshot } from '../ledger/snapshots';
import { verifyShard } from '../ledger/verify';

const usage =
  'usage: npm run ledger -- (rebuild | verify) (--shard N | --all), or npm run ledger -- balance --account ID [--shard N]';

async function run(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { shard: { type: 'string' }, all: { type: 'boolean', default: false }, account: { type: 'string' } },
  });
  const command = positionals[0];
  if (positionals.length !== 1 || !['rebuild', 'verify', 'balance'].includes(command!)) throw new Error(usage);
  const shards = new ShardSet(config().shardUrls, 1);
  try {
    if (command === 'balance') return await balance(shards, values.account, values.shard);
    const chosen = values.all ? shards.pools.map((_, index) => index) : [Number(values.shard)];
    if (chosen.some((shard) => !Number.isInteger(shard) || shard < 0 || shard >= shards.count))
      throw new Error(`${usage} (shards are 0 to ${shards.count - 1})`);
    let clean = true;
    for (const shard of chosen)
      clean = (command === 'rebuild' ? await rebuild(shards, shard) : await verify(shards, shard)) && clean;
    return clean ? 0 : 1;
  } finally {
    await shards.close();
  }
}

async function rebuild(shards: ShardSet, shard: number): Promise<boolean> {
  const report = await shards.withClient(shard, (client) => rebuildShard(client));
  console.log(
    `shard ${shard}: replayed ${report.entries} entries into ${report.accounts} accounts; ${report.differenceCount} balances differ, ${report.breakCount} entries break their running balance`,
  );
  for (const difference of report.differences) {
    console.log(
      `  balance ${difference.accountId}: live ${difference.liveMinor}, rebuilt from entries ${difference.rebuiltMinor} (${difference.currency})`,
    );
  }
  for (const broken of report.breaks) {
    console.log(
      `  entry ${broken.entryId} of ${broken.accountId}: balance_after ${broken.recordedMinor}, replayed ${broken.replayedMinor}`,
    );
  }
  return report.differenceCount === 0 && report.breakCount === 0;
}

async function verify(shards: ShardSet, shard: number): Promise<boolean> {
  const report = await shards.withClient(shard, (client) => verifyShard(client));
  console.log(
    `shard ${shard}: verified the chains of ${report.entries} entries in ${report.accounts} accounts and ${report.snapshots} snapshots; ${report.breakCount === 0 ? 'intact' : `${report.breakCount} broken`}`,
  );
  const where = (entryId: bigint | null, accountId: string) =>
    entryId === null ? `account ${accountId}` : `entry ${entryId} of ${accountId}`;
  if (report.first)
    console.log(
      `  first broken: ${where(report.first.entryId, report.first.accountId)}: ${report.first.problem}, ${report.first.detail}`,
    );
  for (const broken of report.breaks)
    console.log(`  ${where(broken.entryId, broken.accountId)}: ${broken.problem}, ${broken.detail}`);
  return report.breakCount === 0;
}

async function balance(
  shards: ShardSet,
  accountId: string | undefined,
  shardOption: string | undefined,
): Promise<number> {
  if (!accountId) throw new Error(usage);
  const wallet = /^customer:(.+):[A-Z]{3}$/.exec(accountId);
  const shard = shardOption === undefined && wallet ? shards.shardOf(wallet[1]!) : Number(shardOption);
  if (!Number.isInteger(shard) || shard < 0 || shard >= shards.count)
    throw new Error(`${usage} (--shard is needed for ${accountId}; shards are 0 to ${shards.count - 1})`);
  const found = await balanceFromSnapshot(shards.pool(shard), accountId);
  if (!found) throw new Error(`no account ${accountId} on shard ${shard}`);
  const from = found.snapshotSeq === null ? 'no snapshot yet' : `the snapshot at account_seq ${found.snapshotSeq}`;
  console.log(
    `${accountId} on shard ${shard}: ${found.balanceMinor} (${from} plus ${found.entriesReplayed} entries after it); live balance ${found.liveMinor}`,
  );
  return found.balanceMinor === found.liveMinor ? 0 : 1;
}

run().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`wallet ledger: ${(error as Error).message}`);
    process.exit(2);
  },
);

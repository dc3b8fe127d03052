/**
 * `npm run ledger -- rebuild --shard N` (or `--all`): replays a shard's ledger entries into a
 * fresh read model and reports every difference from the live balances, and every entry whose
 * balance_after does not follow from the entries before it. Exits 1 when anything differs.
 */
import { parseArgs } from 'node:util';
import { config } from '../config';
import { ShardSet } from '../db/shards';
import { rebuildShard } from '../ledger/rebuild';

const usage = 'usage: npm run ledger -- rebuild (--shard N | --all)';

async function run(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { shard: { type: 'string' }, all: { type: 'boolean', default: false } } });
  if (positionals[0] !== 'rebuild' || positionals.length !== 1) throw new Error(usage);
  const shards = new ShardSet(config().shardUrls, 1);
  try {
    const chosen = values.all ? shards.pools.map((_, index) => index) : [Number(values.shard)];
    if (chosen.some((shard) => !Number.isInteger(shard) || shard < 0 || shard >= shards.count)) throw new Error(`${usage} (shards are 0 to ${shards.count - 1})`);
    let clean = true;
    for (const shard of chosen) {
      const report = await shards.withClient(shard, (client) => rebuildShard(client));
      clean &&= report.differenceCount === 0 && report.breakCount === 0;
      console.log(`shard ${shard}: replayed ${report.entries} entries into ${report.accounts} accounts; ${report.differenceCount} balances differ, ${report.breakCount} entries break their running balance`);
      for (const difference of report.differences) {
        console.log(`  balance ${difference.accountId}: live ${difference.liveMinor}, rebuilt from entries ${difference.rebuiltMinor} (${difference.currency})`);
      }
      for (const broken of report.breaks) {
        console.log(`  entry ${broken.entryId} of ${broken.accountId}: balance_after ${broken.recordedMinor}, replayed ${broken.replayedMinor}`);
      }
    }
    return clean ? 0 : 1;
  } finally {
    await shards.close();
  }
}

run().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`wallet ledger: ${(error as Error).message}`);
    process.exit(2);
  },
);

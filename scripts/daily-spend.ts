/**
 * `npm run example:daily-spend`: the example read model of the wallet events stream
 * (examples/daily-spend.ts; docs/events.md, "Building a read model from the stream"). It keeps a
 * per-user daily spend view in DAILY_SPEND_DATABASE_URL from the JetStream at NATS_URL (the one
 * `npm start` runs by default) until Ctrl-C, printing its counts every few seconds.
 */
import pg from 'pg';
import { ensureDatabase } from '../db/migrate';
import { runDailySpendConsumer } from '../examples/daily-spend';

const report_every_ms = 5_000;

async function run() {
  const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4225';
  const databaseUrl = process.env.DAILY_SPEND_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/wallet_daily_spend';
  await ensureDatabase(databaseUrl);
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const consumer = await runDailySpendConsumer({ natsUrl, db, durable: 'daily-spend-example' });
  console.log(`daily spend: consuming ${natsUrl} into ${new URL(databaseUrl).pathname.slice(1)} (table daily_spend)`);
  const report = setInterval(() => console.log(`daily spend: ${JSON.stringify(consumer.counts)}`), report_every_ms);
  process.once('SIGINT', () => {
    clearInterval(report);
    void consumer.stop().then(() => db.end());
  });
}

run().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

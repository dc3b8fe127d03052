/** `npm run db:schema`: rewrites db/schema.sql from a freshly migrated scratch database. */
import { writeFileSync } from 'node:fs';
import { config } from '../config';
import { serverUrlOf } from '../db/admin';
import { dumpFreshSchema, schema_file } from '../db/schema-dump';
import { describeStartupError } from '../supervisor/startup-errors';

async function run() {
  const schema = await dumpFreshSchema(serverUrlOf(config().PG_URL));
  writeFileSync(schema_file, schema);
  console.log(`wallet: wrote ${schema_file}`);
}

run().catch((error) => {
  console.error(`wallet db:schema: ${describeStartupError(error)}`);
  process.exit(1);
});

/** `npm run --silent token -- --sub user_A [--role ops] [--expires 12h]`: prints a bearer token for the API. */
import { parseArgs } from 'node:util';
import { config } from '../config';
import { signToken } from '../api/auth';

async function run() {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      role: { type: 'string', default: 'customer' },
      expires: { type: 'string', default: '12h' },
    },
  });
  if (!values.sub)
    throw new Error('usage: npm run --silent token -- --sub USER_ID [--role customer|ops] [--expires 12h]');
  if (values.role !== 'customer' && values.role !== 'ops') throw new Error('--role must be customer or ops');
  console.log(await signToken(config().AUTH_SECRET, { userId: values.sub, role: values.role }, values.expires));
}

run().catch((error) => {
  console.error(`wallet token: ${(error as Error).message}`);
  process.exit(1);
});

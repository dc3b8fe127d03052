/**
 * `npm run --silent token -- --sub user_A [--role ops] [--expires 12h]`: prints a bearer token for the API.
 * `npm run --silent token -- --ops alice --approve tr_… [--reject|--reverse|--retry ID] [--allow-negative]`:
 * prints an action token, the proof an operator's signal carries (valid for ACTION_TOKEN_TTL).
 */
import { parseArgs } from 'node:util';
import { actionTokenSettingsOf, config } from '../config';
import { signToken } from '../api/auth';
import { actionTokenKeys, issueActionToken } from '../domain/action-tokens';
import { transfer_ops_actions, type TransferOpsAction } from '../domain/operators';

const usage =
  'usage: npm run --silent token -- --sub USER_ID [--role customer|ops] [--expires 12h]\n' +
  '   or: npm run --silent token -- --ops OPERATOR --approve|--reject|--reverse|--retry TRANSFER_ID [--allow-negative]';

async function run() {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      role: { type: 'string', default: 'customer' },
      expires: { type: 'string', default: '12h' },
      ops: { type: 'string' },
      'allow-negative': { type: 'boolean', default: false },
      ...Object.fromEntries(transfer_ops_actions.map((action) => [action, { type: 'string' as const }])),
    },
  });
  if (values.ops !== undefined) return console.log(await actionToken(values));
  if (!values.sub) throw new Error(usage);
  if (values.role !== 'customer' && values.role !== 'ops') throw new Error('--role must be customer or ops');
  console.log(await signToken(config().AUTH_SECRET, { userId: values.sub, role: values.role }, values.expires));
}

async function actionToken(values: Record<string, string | boolean | undefined>): Promise<string> {
  const chosen = transfer_ops_actions.filter((action) => typeof values[action] === 'string');
  if (chosen.length !== 1) throw new Error(`name one action and its transfer\n${usage}`);
  const action: TransferOpsAction = chosen[0]!;
  if (values['allow-negative'] === true && action !== 'reverse')
    throw new Error('--allow-negative is for --reverse only');
  const { secret, ttlS } = actionTokenSettingsOf(config());
  const issued = await issueActionToken(actionTokenKeys(secret, ttlS), {
    operator: values.ops as string,
    action,
    transferId: values[action] as string,
    allowNegative: values['allow-negative'] === true,
  });
  return issued.token;
}

run().catch((error) => {
  console.error(`wallet token: ${(error as Error).message}`);
  process.exit(1);
});

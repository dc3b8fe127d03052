/**
 * The one entry of a wallet process, given its role: `wallet` (API and worker in one process,
 * as `npm start` and `npm run wallet` run it), `api` or `worker` (`npm run api`, `npm run worker`,
 * for deployments that scale them apart). app/wallet-node.ts builds the process from its parts.
 */
import { describeStartupError } from '../supervisor/startup-errors';
import { runWalletNode, type WalletRoles } from './wallet-node';

const roles_by_name = new Map<string, WalletRoles>([
  ['wallet', { api: true, worker: true }],
  ['api', { api: true, worker: false }],
  ['worker', { api: false, worker: true }],
]);

const role = process.argv[2] ?? '';
const roles = roles_by_name.get(role);
if (!roles) {
  console.error(`usage: app/main.ts wallet|api|worker (got "${role}")`);
  process.exit(64); // EX_USAGE
}
const label = role === 'wallet' ? 'wallet' : `wallet ${role}`;

runWalletNode(roles).then(
  () => process.exit(),
  (error) => {
    console.error(`${label}: ${describeStartupError(error)}`);
    process.exit(1);
  },
);

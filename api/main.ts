/** `npm run api`: only the HTTP API, for deployments that run workers apart (see runtime/wallet-node.ts). */
import { runWalletNode } from '../runtime/wallet-node';
import { describeStartupError } from '../runtime/startup-errors';

runWalletNode({ api: true, worker: false }).then(
  () => process.exit(),
  (error) => {
    console.error(`wallet api: ${describeStartupError(error)}`);
    process.exit(1);
  },
);

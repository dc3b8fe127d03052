/** `npm run wallet`: the API and the worker in one process, as `npm start` runs them (see runtime/wallet-node.ts). */
import { runWalletNode } from '../runtime/wallet-node';
import { describeStartupError } from '../runtime/startup-errors';

runWalletNode({ api: true, worker: true }).then(
  () => process.exit(),
  (error) => {
    console.error(`wallet: ${describeStartupError(error)}`);
    process.exit(1);
  },
);

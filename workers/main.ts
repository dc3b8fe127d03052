/** `npm run worker`: only the Temporal worker (and the orphan sweeper), for scale-out. */
import { runWalletNode } from '../runtime/wallet-node';
import { describeStartupError } from '../runtime/startup-errors';

runWalletNode({ api: false, worker: true }).then(
  () => process.exit(),
  (error) => {
    console.error(`wallet worker: ${describeStartupError(error)}`);
    process.exit(1);
  },
);

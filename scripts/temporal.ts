/** `npm run temporal`: only the Temporal dev server, with the wallet's data file and search attributes. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { config } from '../config';
import { codecEndpointOf, isPortOpen, startDevServer } from '../supervisor/dev-server';

async function run() {
  const settings = config();
  if (!settings.usesDevServer)
    throw new Error(`TEMPORAL_ADDRESS is set (${settings.temporalAddress}); no dev server needed`);
  if (await isPortOpen(settings.TEMPORAL_PORT))
    throw new Error(`port ${settings.TEMPORAL_PORT} (TEMPORAL_PORT) is already in use`);
  const cliPath = process.env.TEMPORAL_CLI;
  if (!cliPath) throw new Error('TEMPORAL_CLI is not set: use npm run temporal');
  mkdirSync(settings.DATA_DIR, { recursive: true });
  const child = startDevServer({
    cliPath,
    port: settings.TEMPORAL_PORT,
    uiPort: settings.TEMPORAL_UI_PORT,
    // The Web UI decrypts payloads through the wallet's codec endpoint (README, "Payload encryption").
    codecEndpoint: codecEndpointOf(settings),
    dbFile: path.join(settings.DATA_DIR, 'temporal.db'),
    namespace: settings.TEMPORAL_NAMESPACE,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill('SIGINT'));
  child.once('exit', (code) => process.exit(code ?? 0));
}

run().catch((error) => {
  console.error(`wallet temporal: ${(error as Error).message}`);
  process.exit(1);
});

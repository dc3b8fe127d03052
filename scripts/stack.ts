/**
 * `npm start`: the whole wallet in the foreground. Temporal dev server (unless TEMPORAL_ADDRESS
 * names an existing one), shard databases with migrations, the wallet process (API and worker), and
 * the bank it pays out through (bank/, with moov-io/ach's server), and a nats-server with JetStream for the
 * wallet events stream (unless NATS_URL names one). Ctrl-C stops
 * every part; a part that dies is restarted with backoff, and a crash loop stops everything
 * (supervisor/children.ts, Supervisor).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { temporalConnectionOptions } from '../app/temporal';
import { config } from '../config';
import { bankConfig, type BankConfig } from '../config/bank';
import { prepareShards } from '../db/migrate';
import { addBankProcesses } from '../supervisor/bank-processes';
import { spawnTs, Supervisor } from '../supervisor/children';
import { codecEndpointOf, isPortOpen, startDevServer, waitForPort } from '../supervisor/dev-server';
import { describeStartupError } from '../supervisor/startup-errors';
import { waitForTemporal } from '../supervisor/wait-for-temporal';
import { startNatsServer } from '../supervisor/nats-server';

const ready_timeout_ms = 120_000;

const supervisor = new Supervisor();

async function run() {
  const settings = config();
  const bank = bankConfig();
  supervisor.handleSignals();

  await requireFreePorts(settings, bank);
  // Shards first: a wrong PostgreSQL setting fails in a second, before anything is started.
  await prepareShards(settings.shardUrls, { snapshotEvery: settings.SNAPSHOT_EVERY });
  if (settings.usesDevServer) {
    const cliPath = process.env.TEMPORAL_CLI;
    if (!cliPath) throw new Error('TEMPORAL_CLI is not set: start the stack with npm start');
    mkdirSync(settings.DATA_DIR, { recursive: true });
    // Restarted on the same SQLite file: every workflow survives a crash of the dev server.
    supervisor.add('temporal', () =>
      startDevServer({
        cliPath,
        port: settings.TEMPORAL_PORT,
        uiPort: settings.TEMPORAL_UI_PORT,
        // The Web UI decrypts payloads through the wallet's codec endpoint (README, "Payload encryption").
        codecEndpoint: codecEndpointOf(settings),
        dbFile: path.join(settings.DATA_DIR, 'temporal.db'),
        namespace: settings.TEMPORAL_NAMESPACE,
      }),
    );
    await waitForPort(settings.TEMPORAL_PORT, ready_timeout_ms);
  }
  const { address, ...access } = temporalConnectionOptions(settings);
  await waitForTemporal(address, settings.TEMPORAL_NAMESPACE, ready_timeout_ms, access);
  // API and worker in one process: transfers start eagerly on its worker (see app/wallet-node.ts).
  const natsUrl = await startOwnNats(settings);
  // A development stack: webhooks may reach a receiver on this machine (README, "Webhooks"),
  // unless the environment says otherwise.
  const webhookAllowPrivate = process.env.WEBHOOK_ALLOW_PRIVATE ?? 'true';
  supervisor.add('wallet', () =>
    spawnTs(['app/main.ts', 'wallet'], {
      ...process.env,
      NATS_URL: natsUrl,
      WEBHOOK_ALLOW_PRIVATE: webhookAllowPrivate,
    }),
  );
  await waitForPort(settings.PORT, ready_timeout_ms, settings.HOST);
  await addBankProcesses(supervisor, bank, process.env.ACH_SERVER_BIN);

  console.log(
    [
      '',
      'wallet is up:',
      `  API             http://${settings.HOST}:${settings.PORT}   (readiness: /readyz, OpenAPI: /openapi.json)`,
      `  Metrics         http://${settings.HOST}:${settings.PORT}/metrics`,
      settings.usesDevServer
        ? `  Temporal Web UI http://127.0.0.1:${settings.TEMPORAL_UI_PORT}   (Temporal gRPC ${settings.temporalAddress})\n` +
          `  Payload codec   ${codecEndpointOf(settings)}   (ops sign in once at /codec/login to see decoded payloads)`
        : `  Temporal        ${settings.temporalAddress} (existing server)`,
      `  Shards          ${settings.shardUrls.length} PostgreSQL databases`,
      `  Event stream    ${natsUrl}   (JetStream stream WALLET_EVENTS, docs/events.md)`,
      `  Bank            http://${bank.BANK_HOST}:${bank.BANK_PORT}   (README, "The bank"; database ${new URL(bank.BANK_DATABASE_URL).pathname.slice(1)})`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

async function requireFreePorts(settings: ReturnType<typeof config>, bank: BankConfig): Promise<void> {
  const wanted: [string, number, string][] = [
    ['PORT', settings.PORT, settings.HOST === '0.0.0.0' ? '127.0.0.1' : settings.HOST],
    ['BANK_PORT', bank.BANK_PORT, bank.BANK_HOST === '0.0.0.0' ? '127.0.0.1' : bank.BANK_HOST],
  ];
  if (!bank.ACH_SERVER_URL)
    wanted.push(
      ['ACH_SERVER_PORT', bank.ACH_SERVER_PORT, '127.0.0.1'],
      ['ACH_SERVER_PORT + 1 (its admin server)', bank.ACH_SERVER_PORT + 1, '127.0.0.1'],
    );
  if (settings.usesDevServer)
    wanted.push(
      ['TEMPORAL_PORT', settings.TEMPORAL_PORT, '127.0.0.1'],
      ['TEMPORAL_UI_PORT', settings.TEMPORAL_UI_PORT, '127.0.0.1'],
    );
  if (!settings.NATS_URL) wanted.push(['NATS_PORT', settings.NATS_PORT, '127.0.0.1']);
  for (const [name, port, host] of wanted) {
    if (await isPortOpen(port, host))
      throw new Error(`port ${port} (${name}) is already in use; stop what holds it or set ${name}`);
  }
}

/** The wallet events stream (docs/events.md, "The stream"): our own `nats-server -js` unless NATS_URL names one. */
async function startOwnNats(settings: ReturnType<typeof config>): Promise<string> {
  if (settings.NATS_URL) return settings.NATS_URL;
  const storeDir = path.join(settings.DATA_DIR, 'nats');
  mkdirSync(storeDir, { recursive: true });
  supervisor.add('nats', () => startNatsServer({ port: settings.NATS_PORT, storeDir, output: 'ignore' }));
  await waitForPort(settings.NATS_PORT, ready_timeout_ms);
  return `nats://127.0.0.1:${settings.NATS_PORT}`;
}

run().catch(async (error) => {
  console.error(`wallet: ${describeStartupError(error)}`);
  await supervisor.stop(1);
});

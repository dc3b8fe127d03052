import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { ensureTemporalCerts, type CertPair, type TemporalCerts } from '../scripts/temporal-certs';
import { freePort } from '../supervisor/dev-server';
import { runnerEnv } from './support/runner-env';
import { uniqueName } from './support/temporal';
import { startWalletProcess } from './support/wallet-process';

/**
 * `npm run temporal:cluster` (the production server on PostgreSQL) serves its frontend over
 * mutual TLS: a client without a certificate signed by the project's CA is refused, and the wallet
 * and the CLI connect with theirs through the TEMPORAL_TLS_* settings. The cluster is the real
 * script, on its own ports and databases (dropped with the run's), with certificates in a
 * temporary DATA_DIR.
 */
const run_file = promisify(execFile);
const cluster_ready_timeout_ms = 120_000;

describe('the Temporal cluster over mutual TLS', () => {
  let cluster: { address: string; certs: TemporalCerts; stop: () => Promise<void> } | undefined;
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'wallet-mtls-'));
    cluster = await startCluster(dataDir);
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Describes the default namespace over a fresh connection: the smallest call the frontend authorizes. */
  async function describeWith(options: Omit<ConnectionOptions, 'address'>): Promise<void> {
    const connection = await Connection.connect({ address: cluster!.address, connectTimeout: 5_000, ...options });
    try {
      await connection.workflowService.describeNamespace({ namespace: 'default' });
    } finally {
      await connection.close();
    }
  }

  const serverTrust = () => ({
    serverNameOverride: 'localhost',
    serverRootCACertificate: readFileSync(cluster!.certs.ca),
  });
  const pairOf = (pair: CertPair) => ({ crt: readFileSync(pair.cert), key: readFileSync(pair.key) });

  it('refuses a client without a certificate, in plain gRPC or TLS, and one signed by another CA', async () => {
    await assert.rejects(describeWith({}), 'plain gRPC must not reach a TLS frontend');
    // TLS 1.3 refuses the missing certificate after the handshake, so the message varies (refused, broken pipe).
    await assert.rejects(describeWith({ tls: serverTrust() }), 'TLS without a client certificate must be refused');
    const stranger = await ensureTemporalCerts(path.join(dataDir, 'another-ca'));
    await assert.rejects(describeWith({ tls: { ...serverTrust(), clientCertPair: pairOf(stranger.wallet) } }));
    // The same call with the project's certificate answers: what was refused was the client, not the call.
    await describeWith({ tls: { ...serverTrust(), clientCertPair: pairOf(cluster!.certs.wallet) } });
  });

  it('lets the CLI in with the operator certificate through the TEMPORAL_TLS_* settings, and no one without', async () => {
    const cli = process.env.TEMPORAL_CLI ?? '.tools/bin/temporal';
    const { certs, address } = cluster!;
    const base = { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_TLS_SERVER_NAME: 'localhost' };
    const asOperator = {
      ...base,
      TEMPORAL_TLS_CA: certs.ca,
      TEMPORAL_TLS_CERT: certs.operator.cert,
      TEMPORAL_TLS_KEY: certs.operator.key,
    };
    const described = await run_file(cli, ['operator', 'namespace', 'describe', '-n', 'default'], { env: asOperator });
    assert.match(described.stdout, /default/);
    await assert.rejects(
      run_file(cli, ['operator', 'namespace', 'describe', '-n', 'default'], {
        env: { ...base, TEMPORAL_TLS_CA: certs.ca },
        timeout: 30_000,
      }),
      'the CLI without a certificate must be refused',
    );
  });

  it('serves the Web UI with the operator certificate set as for the temporalio/ui image, and not without', async () => {
    const { certs, address } = cluster!;
    const uiDir = (await run_file('bash', ['scripts/ensure-temporal-ui.sh'])).stdout.trim();
    const withCert = await startUiServer(uiDir, {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TLS_CA: certs.ca,
      TEMPORAL_TLS_CERT: certs.operator.cert,
      TEMPORAL_TLS_KEY: certs.operator.key,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
      TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: 'true',
    });
    // TLS that trusts the server, but no client certificate of its own.
    const without = await startUiServer(uiDir, {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TLS_CA: certs.ca,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
      TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: 'true',
    });
    try {
      // What the UI's namespace page asks its server, which asks the frontend.
      const namespace = '/api/v1/namespaces/default';
      const answered = await fetch(`${withCert.origin}${namespace}`);
      assert.equal(answered.status, 200, await answered.clone().text());
      assert.equal(((await answered.json()) as any).namespaceInfo?.name, 'default');
      const refused = await fetch(`${without.origin}${namespace}`);
      assert.notEqual(refused.status, 200, 'a UI server without a certificate must not reach the frontend');
    } finally {
      for (const ui of [withCert, without]) await ui.stop();
    }
  });

  it('runs a wallet process whose worker and client connect with the wallet certificate, and a transfer completes', async () => {
    const { certs, address } = cluster!;
    const wallet = await startWalletProcess({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TLS_CA: certs.ca,
      TEMPORAL_TLS_CERT: certs.wallet.cert,
      TEMPORAL_TLS_KEY: certs.wallet.key,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    try {
      const ops = { as: 'ops_console', role: 'ops' as const };
      const [sender, recipient] = [uniqueName('alice'), uniqueName('bob')];
      for (const user of [sender, recipient])
        assert.equal((await wallet.call('POST', '/v1/wallet/users', { ...ops, body: { user_id: user } })).status, 201);
      const deposit = await wallet.call('POST', `/v1/wallet/${sender}/deposits?wait=30`, {
        ...ops,
        body: { amount: 5_000, currency: 'USD', idempotency_key: uniqueName('dep') },
      });
      assert.equal(deposit.body.status, 'COMPLETED', JSON.stringify(deposit.body));
      const sent = await wallet.call('POST', '/v1/wallet/transfers?wait=30', {
        as: sender,
        body: {
          from_user_id: sender,
          to_user_id: recipient,
          amount: 1_234,
          currency: 'USD',
          idempotency_key: uniqueName('tr'),
        },
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.status, 'COMPLETED');
      // The workflow ran on the TLS cluster: its history is there, read with the operator's certificate.
      const connection = await Connection.connect({
        address,
        tls: { ...serverTrust(), clientCertPair: pairOf(certs.operator) },
      });
      try {
        const found = await connection.workflowService.describeWorkflowExecution({
          namespace: 'default',
          execution: { workflowId: sent.body.transfer_id },
        });
        assert.equal(found.workflowExecutionInfo?.execution?.workflowId, sent.body.transfer_id);
      } finally {
        await connection.close();
      }
    } finally {
      await wallet.stop();
    }
  });
});

/** The Web UI server, configured by environment variables as the temporalio/ui image is (its `docker` template). */
async function startUiServer(uiDir: string, env: NodeJS.ProcessEnv) {
  const port = await freePort();
  const child = spawn(`${uiDir}/server`, ['--root', uiDir, '--config', 'config', '--env', 'docker', 'start'], {
    env: { PATH: process.env.PATH, TEMPORAL_UI_PORT: String(port), ...env },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (
    !(await fetch(`${origin}/healthz`).then(
      (answer) => answer.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the UI server on ${port} did not start`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    origin,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `scripts/temporal-cluster.ts` as `npm run temporal:cluster` runs it, until it prints that it is ready. */
async function startCluster(dataDir: string) {
  // The script needs TEMPORAL_CLUSTER_PORT - 300 to + 20 free (and at most 33000): a random base in a quiet range.
  const port = 20_000 + Math.floor(Math.random() * 12_000);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'scripts/temporal-cluster.ts'], {
    env: {
      ...process.env,
      TEMPORAL_CLUSTER_PORT: String(port),
      // Dropped with the run's other databases by the test runner.
      TEMPORAL_CLUSTER_DB_PREFIX: `${runnerEnv('WALLET_TEST_DB_PREFIX')}cluster`,
      TEMPORAL_HISTORY_SHARDS: '1',
      DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killer);
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the cluster was not ready in ${cluster_ready_timeout_ms} ms:\n${output.join('')}`)),
      cluster_ready_timeout_ms,
    );
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8').on('data', (text: string) => {
        output.push(text);
        if (output.join('').includes('temporal cluster: ready on')) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    void exited.then(() => reject(new Error(`the cluster script exited:\n${output.join('')}`)));
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return {
    address: `127.0.0.1:${port}`,
    certs: await ensureTemporalCerts(path.join(dataDir, 'temporal-cluster', 'tls')),
    stop,
  };
}

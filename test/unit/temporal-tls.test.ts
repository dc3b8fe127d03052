import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { temporalConnectionOptions } from '../../app/temporal';
import { ConfigError, parseConfig } from '../../config';

describe('the TEMPORAL_TLS_* settings', () => {
  it('leave the connection plain when none is set (the dev server speaks plain gRPC)', () => {
    const settings = parseConfig({});
    assert.equal(settings.temporalTls, undefined);
    assert.deepEqual(temporalConnectionOptions(settings), { address: '127.0.0.1:7233' });
  });

  it('refuse a certificate without its key, and TLS without TEMPORAL_ADDRESS', () => {
    const cluster = { TEMPORAL_ADDRESS: 'temporal:7233' };
    assert.throws(() => parseConfig({ ...cluster, TEMPORAL_TLS_CERT: 'c.pem' }), ConfigError);
    assert.throws(() => parseConfig({ ...cluster, TEMPORAL_TLS_KEY: 'k.pem' }), ConfigError);
    assert.throws(() => parseConfig({ TEMPORAL_TLS_CA: 'ca.pem' }), /need TEMPORAL_ADDRESS/);
    assert.throws(() => parseConfig({ TEMPORAL_API_KEY: 'secret' }), /need TEMPORAL_ADDRESS/);
  });

  it('build mutual TLS from the files, and name the setting whose file is missing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wallet-tls-'));
    try {
      const files = { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' };
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, `${name}.pem`), text);
      const environment = {
        TEMPORAL_ADDRESS: '127.0.0.1:7433',
        TEMPORAL_TLS_CA: path.join(dir, 'ca.pem'),
        TEMPORAL_TLS_CERT: path.join(dir, 'cert.pem'),
        TEMPORAL_TLS_KEY: path.join(dir, 'key.pem'),
        TEMPORAL_TLS_SERVER_NAME: 'localhost',
      };
      const options = temporalConnectionOptions(parseConfig(environment));
      assert.equal(options.address, '127.0.0.1:7433');
      assert.equal(options.tls?.serverNameOverride, 'localhost');
      assert.equal(Buffer.from(options.tls!.serverRootCACertificate!).toString(), files.ca);
      assert.equal(Buffer.from(options.tls!.clientCertPair!.crt).toString(), files.cert);
      assert.equal(Buffer.from(options.tls!.clientCertPair!.key).toString(), files.key);
      assert.equal(options.apiKey, undefined);
      const missing = parseConfig({ ...environment, TEMPORAL_TLS_KEY: path.join(dir, 'gone.pem') });
      assert.throws(() => temporalConnectionOptions(missing), /TEMPORAL_TLS_KEY \(.*gone\.pem\) cannot be read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('send an API key over TLS with no client certificate (Temporal Cloud)', () => {
    const options = temporalConnectionOptions(
      parseConfig({
        TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
        TEMPORAL_API_KEY: 'key-123',
        PAYLOAD_KEYS: 'k1:eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg=', // the development key is refused off loopback
      }),
    );
    assert.deepEqual(options, { address: 'ns.acct.tmprl.cloud:7233', tls: {}, apiKey: 'key-123' });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createWebhookActivities } from '../../activities/webhooks';
import type { ShardSet } from '../../db/shards';
import { webhookRetryDelayMs } from '../../domain/webhook-deliveries';
import { isRefusedAddress, newWebhookSecret, openSecret, sealSecret, webhookUrlProblem } from '../../domain/webhooks';

describe('webhooks: pure rules', () => {
  it('refuses loopback, private, link-local, reserved and mapped addresses, and lets public ones through', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      'not an address',
    ])
      assert.equal(isRefusedAddress(address), true, address);
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      assert.equal(isRefusedAddress(address), false, address);
  });

  it('takes http(s) URLs without credentials or fragments only', () => {
    assert.equal(webhookUrlProblem('https://merchant.example/hooks'), undefined);
    for (const url of [
      'ftp://x.example/',
      'javascript:alert(1)',
      'http://a:b@x.example/',
      'http://x.example/#f',
      'nope',
    ])
      assert.ok(webhookUrlProblem(url), url);
  });

  it('doubles the wait from the first up to the maximum', () => {
    const schedule = { firstMs: 30_000, maxMs: 3_600_000, budgetMs: 3 * 86_400_000 };
    assert.deepEqual(
      [1, 2, 3, 8, 9, 100].map((retry) => webhookRetryDelayMs(schedule, retry)),
      [30_000, 60_000, 120_000, 3_600_000, 3_600_000, 3_600_000],
    );
  });

  it('seals a secret so only the listed keys open it, and a relabelled one fails', () => {
    const keys = [{ id: 'k2', key: new Uint8Array(32).fill(2) }];
    const secret = newWebhookSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const sealed = sealSecret(keys, secret);
    assert.ok(!sealed.includes(secret.slice(6)));
    assert.equal(openSecret([{ id: 'k1', key: new Uint8Array(32) }, ...keys], sealed), secret);
    assert.throws(() => openSecret([{ id: 'k1', key: new Uint8Array(32).fill(2) }], sealed.replace('.k2.', '.k1.')));
  });

  it('counts and logs each failed attempt to disable an endpoint, and fails it so it is retried', async () => {
    const lines: { msg: string; endpoint_id?: string }[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    let disableFailures = 0;
    const shardDown = { pool: () => ({ query: () => Promise.reject(new Error('shard down')) }) } as unknown as ShardSet;
    const activities = createWebhookActivities({
      shards: shardDown,
      logger,
      sealingKeys: [],
      enqueue: async () => undefined,
      events: {
        attempt: () => undefined,
        disabled: () => assert.fail('not disabled'),
        drainFailed: () => undefined,
        disableFailed: () => void disableFailures++,
      },
      allowPrivate: false,
      requestTimeoutMs: 1_000,
    });
    await assert.rejects(
      activities.disableWebhookEndpoint({ endpointId: 'we_1', reason: 'backlog_exceeded' }),
      /shard down/,
    );
    assert.equal(disableFailures, 1);
    assert.deepEqual(
      lines.map((line) => [line.msg, line.endpoint_id]),
      [['webhook endpoint could not be disabled; retrying', 'we_1']],
    );
  });
});

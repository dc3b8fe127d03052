import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { instrumentActivities } from '../../activities/instrument';
import { walletMetrics } from '../../metrics/wallet-metrics';

describe('activity instrumentation', () => {
  const metrics = walletMetrics();

  it('returns what the activity returns and rethrows the very error it threw', async () => {
    const failure = new Error('shard down');
    const refusal = ApplicationFailure.create({ type: 'insufficient_funds', nonRetryable: true });
    const activities = {
      prefix: 'leg:',
      async echo(this: { prefix: string }, value: string) {
        return `${this.prefix}${value}`;
      },
      async broken() {
        throw failure;
      },
      async refused() {
        throw refusal;
      },
    };
    const wrapped = instrumentActivities(activities, metrics);
    assert.equal(await wrapped.echo('debit'), 'leg:debit');
    await assert.rejects(wrapped.broken(), (error) => error === failure);
    await assert.rejects(wrapped.refused(), (error) => error === refusal);
    assert.equal(wrapped.prefix, 'leg:');
    const text = await metrics.registry.metrics();
    assert.match(text, /^wallet_activity_duration_seconds_count\{activity="echo",outcome="succeeded"\} 1$/m);
    assert.match(text, /^wallet_activity_duration_seconds_count\{activity="broken",outcome="failed"\} 1$/m);
    assert.match(text, /^wallet_activity_duration_seconds_count\{activity="refused",outcome="refused"\} 1$/m);
  });
});

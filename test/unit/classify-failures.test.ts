import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { classifyFailures } from '../../activities/classify-failures';
import { PayloadDecodeError } from '../../domain/payload';

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const sqlError = (code: string, constraint?: string) =>
  Object.assign(new Error('new row for relation "x" violates check constraint: (alice, 12.34)'), { code, constraint });

describe('classifyFailures', () => {
  it('makes an error no retry can fix final, with its SQLSTATE and constraint and without the database message', async () => {
    const { logger, lines } = capturedLogger();
    const activities = classifyFailures(logger, {
      async creditWallet() {
        throw sqlError('23514', 'ops_audit_operator_check');
      },
      async debitWallet() {
        throw new PayloadDecodeError('not an integer amount: 1.5');
      },
    });
    const env = new MockActivityEnvironment({ attempt: 1 });
    const failure = await env.run(activities.creditWallet).catch((error: unknown) => error);
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'ledger_error_integrity_constraint');
    assert.equal(failure.nonRetryable, true);
    assert.deepEqual(failure.details, [{ sqlState: '23514', constraint: 'ops_audit_operator_check' }]);
    assert.doesNotMatch(failure.message, /alice/);
    assert.equal(lines.at(-1)?.sql_state, '23514');
    const decode = await env.run(activities.debitWallet).catch((error: unknown) => error);
    assert.ok(decode instanceof ApplicationFailure);
    assert.equal(decode.type, 'payload_invalid');
    assert.equal(decode.nonRetryable, true);
  });

  it('leaves a retryable error as it is, and flags a step retrying longer than STUCK_AFTER', async () => {
    const { logger, lines } = capturedLogger();
    const deadlock = sqlError('40P01');
    const counted: { activity: string }[] = [];
    const activities = classifyFailures(
      logger,
      {
        async reverseTransfer() {
          throw deadlock;
        },
      },
      60_000,
      { inc: (labels) => void counted.push(labels) },
    );
    const fresh = new MockActivityEnvironment({ attempt: 3, scheduledTimestampMs: Date.now() - 1_000 });
    await assert.rejects(fresh.run(activities.reverseTransfer), (error) => error === deadlock);
    assert.equal(lines.length, 0);
    assert.deepEqual(counted, []);
    const old = new MockActivityEnvironment({ attempt: 40, scheduledTimestampMs: Date.now() - 120_000 });
    await assert.rejects(old.run(activities.reverseTransfer), (error) => error === deadlock);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.activity, 'reverseTransfer');
    assert.equal(lines[0]!.attempt, 40);
    assert.equal(lines[0]!.level, 50);
    assert.deepEqual(counted, [{ activity: 'reverseTransfer' }], 'counted in wallet_ledger_steps_retrying_long_total');
  });
});

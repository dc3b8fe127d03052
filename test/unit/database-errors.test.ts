import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShardBusyError } from '../../db/shards';
import { classifyDatabaseError, isShardBusy, needsAttentionFor } from '../../domain/database-errors';

describe('classifyDatabaseError', () => {
  it('retries what passes by itself', () => {
    for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '40001', '40P01', '55P03', '57014', '53300']) {
      assert.equal(classifyDatabaseError({ code }).retry, true, code);
    }
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'shard_busy'])
      assert.equal(classifyDatabaseError({ code }).retry, true, code);
    // pg's "Connection terminated unexpectedly" carries no code: it cannot be told from a lost connection.
    assert.equal(classifyDatabaseError(new Error('Connection terminated unexpectedly')).retry, true);
  });

  it('tells a busy shard (waits, spends no debit attempt) from one that cannot be reached', () => {
    assert.equal(isShardBusy(new ShardBusyError('shard 1: all 10 connections busy')), true);
    assert.equal(isShardBusy({ code: '55P03' }), true);
    assert.equal(isShardBusy(new Error('timeout exceeded when trying to connect')), true);
    for (const unreachable of [{ code: 'ECONNREFUSED' }, { code: '57P01' }, { code: '57014' }, { code: '23505' }])
      assert.equal(isShardBusy(unreachable), false, unreachable.code);
    assert.equal(isShardBusy(new Error('Connection terminated due to connection timeout')), false);
  });

  it('does not retry what fails the same way again, naming its class, SQLSTATE and constraint', () => {
    assert.deepEqual(classifyDatabaseError({ code: '23514', constraint: 'ops_audit_operator_check' }), {
      retry: false,
      errorClass: 'integrity_constraint',
      sqlState: '23514',
      constraint: 'ops_audit_operator_check',
    });
    const cases: [string, string][] = [
      ['23505', 'integrity_constraint'],
      ['22001', 'data_exception'],
      ['42703', 'syntax_or_access_rule'],
      ['42883', 'syntax_or_access_rule'],
      ['P0001', 'plpgsql_exception'],
      ['XX000', 'class_xx'],
      ['57P04', 'class_57'],
    ];
    for (const [code, errorClass] of cases) {
      const verdict = classifyDatabaseError({ code });
      assert.equal(verdict.retry, false, code);
      assert.equal(!verdict.retry && verdict.errorClass, errorClass, code);
      assert.equal(!verdict.retry && verdict.constraint, null);
    }
  });

  it('escalates ledger errors and undecodable payloads, never business refusals', () => {
    assert.equal(needsAttentionFor('ledger_error_integrity_constraint'), true);
    assert.equal(needsAttentionFor('payload_invalid'), true);
    for (const type of ['insufficient_funds', 'transfer_state_conflict', undefined])
      assert.equal(needsAttentionFor(type), false);
  });
});

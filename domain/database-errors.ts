/**
 * Which ledger errors a retry can fix. Pure: it reads the error's SQLSTATE (`code`, five
 * characters, from PostgreSQL) or Node's system error code, and nothing else.
 *
 * Retried: what passes by itself, without anyone changing code or data: a lost or refused
 * connection (class 08, ECONNRESET...), a server shutting down or starting (57P01..57P03), a
 * serialization failure or deadlock (40001, 40P01), a lock or statement timeout (55P03, 57014),
 * a server out of resources (class 53: too many connections, disk full), an I/O error (class 58),
 * a standby that is not yet promoted (25006), a shard with too many callers waiting (shard_busy).
 * An error with no code at all (pg's "Connection terminated unexpectedly") is retried too: it
 * cannot be told from a lost connection; the transfer monitor flags a step retrying that long.
 *
 * Not retried: every other SQLSTATE, which fails the same way on every attempt: a constraint
 * (class 23), a data exception (class 22, a value too long), an undefined function or column or
 * a syntax error (class 42), an exception raised by a ledger function (P0001, P0002).
 */

/** What a ledger error means for a retry. `sqlState` is the error's code, `constraint` the one it broke, when known. */
export type ErrorVerdict =
  { retry: true; reason: string } | { retry: false; errorClass: string; sqlState: string; constraint: string | null };

/** Failure types of steps that cannot succeed until someone fixes the cause; see needsAttentionFor. */
export const ledger_error_prefix = 'ledger_error_';
/** An activity input that cannot be decoded (a `...Minor` field that is not an integer): a bug, never retried. */
export const payload_invalid = 'payload_invalid';

const retried_sql_states: Readonly<Record<string, string>> = {
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '40003': 'statement_completion_unknown',
  '55P03': 'lock_not_available',
  '57014': 'query_canceled',
  '57P01': 'admin_shutdown',
  '57P02': 'crash_shutdown',
  '57P03': 'cannot_connect_now',
  '25006': 'read_only_sql_transaction',
  '25P03': 'idle_in_transaction_session_timeout',
};

/** Whole SQLSTATE classes a retry can fix: connection exceptions, insufficient resources, system (I/O) errors. */
const retried_sql_classes: Readonly<Record<string, string>> = {
  '08': 'connection_exception',
  '53': 'insufficient_resources',
  '58': 'system_error',
};

/** Node's and the wallet's own codes for a connection that failed or a shard too busy to wait for. */
const retried_codes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'shard_busy',
]);

const sql_state_pattern = /^[0-9A-Z]{5}$/;

export function classifyDatabaseError(error: unknown): ErrorVerdict {
  const { code, constraint } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    constraint?: unknown;
  };
  if (typeof code !== 'string') return { retry: true, reason: 'no_error_code' };
  if (retried_codes.has(code)) return { retry: true, reason: code };
  if (!sql_state_pattern.test(code)) return { retry: true, reason: 'unknown_error_code' };
  const known = retried_sql_states[code] ?? retried_sql_classes[code.slice(0, 2)];
  if (known) return { retry: true, reason: known };
  return {
    retry: false,
    errorClass: sqlStateClass(code),
    sqlState: code,
    constraint: typeof constraint === 'string' ? constraint : null,
  };
}

/** The failure type of a debit attempt that met a busy shard: the workflow waits and debits again (workflows/busy-debit.ts). */
export const shard_busy_failure = 'shard_busy';

/** What pg-pool says when a caller waited its whole connectionTimeoutMillis for a connection of a full pool. */
const pool_wait_timeout_message = 'timeout exceeded when trying to connect';

/**
 * True for an error that says the shard is busy, not down: too many callers already waiting for
 * its connections (shard_busy), a row or table lock that did not come within lock_timeout
 * (55P03: a hot account's other legs hold it), or a full pool that gave no connection in time.
 * The shard answered, or would have; a leg that meets this waits and tries again without
 * spending the attempts meant for a shard that cannot be reached (issue 18: a payroll burst's hot
 * payers failed as ledger_unavailable). A shard that stays busy is bounded by time, not attempts.
 */
export function isShardBusy(error: unknown): boolean {
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
  };
  return code === 'shard_busy' || code === '55P03' || message === pool_wait_timeout_message;
}

/** The SQLSTATE class as a name for the failure type: `ledger_error_integrity_constraint` for 23514. */
function sqlStateClass(sqlState: string): string {
  const names: Readonly<Record<string, string>> = {
    '22': 'data_exception',
    '23': 'integrity_constraint',
    '42': 'syntax_or_access_rule',
    P0: 'plpgsql_exception',
  };
  return names[sqlState.slice(0, 2)] ?? `class_${sqlState.slice(0, 2).toLowerCase()}`;
}

/**
 * True for a failure type that means "no retry will fix this step; escalate": the workflow then
 * holds the transfer in NEEDS_ATTENTION until ops send `retry`. Business refusals are not.
 */
export function needsAttentionFor(failureType: string | undefined): boolean {
  return failureType !== undefined && (failureType.startsWith(ledger_error_prefix) || failureType === payload_invalid);
}

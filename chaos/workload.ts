import type { Answer, ChaosClient } from './client';
import { isRetryable, sleep } from './client';
import type { PlannedOperation } from './plan';

export const ops_operator = 'ops_chaos';
const ops = { sub: ops_operator, role: 'ops' as const };
/** Answers of transfers that are not held wait this long for the final state (?wait=). */
const wait_s = 5;
/** A signal's effect is read from the record for at most this long (the reversal window is 30 s). */
const signal_effect_wait_ms = 45_000;

/** What clients were told, kept for the invariants. */
export interface Observations {
  /** Request identity (method, path, key) -> the body sent and the transfer ids its 2xx answers named. */
  same_body: Map<string, { ids: Set<string>; answers: number }>;
  /** Same key with another body: each answer's status and error code. */
  reused: { key: string; status: number; code: string | null }[];
  /** Concurrent duplicate groups: the transfer ids their 2xx answers named. */
  duplicates: { key: string; ids: string[] }[];
  /** Every transfer id an answer accepted. */
  accepted: Set<string>;
  /** Transfer id -> every amount its 2xx answers told the client (the amounts invariant compares them with what was asked); 202s tell none. */
  told: Map<string, Set<string>>;
  /** Transfers a client was told are COMPLETED. */
  reported_completed: Set<string>;
  /** Transfers an operator asked to reverse (so REVERSED is expected of them). */
  reverse_requested: Set<string>;
  reversals: Record<string, number>;
  decisions: Record<string, number>;
  /** Answers no client should get (a 4xx to a valid request), by status and code. */
  unexpected: Record<string, number>;
}

export function newObservations(): Observations {
  return {
    same_body: new Map(),
    reused: [],
    duplicates: [],
    accepted: new Set(),
    told: new Map(),
    reported_completed: new Set(),
    reverse_requested: new Set(),
    reversals: {},
    decisions: {},
    unexpected: {},
  };
}

interface MoneyRequest {
  path: string;
  as: { sub: string; role: 'customer' | 'ops' };
  body: Record<string, unknown>;
}

function requestOf(operation: PlannedOperation): MoneyRequest {
  const wait = operation.kind === 'held' ? '' : `?wait=${wait_s}`;
  const customer = { sub: operation.from, role: 'customer' as const };
  switch (operation.kind) {
    case 'deposit':
      return {
        path: `/v1/wallet/${operation.to}/deposits${wait}`,
        as: ops,
        body: { amount: operation.amount, currency: 'USD', idempotency_key: operation.key },
      };
    case 'withdrawal':
      return {
        path: `/v1/wallet/${operation.from}/withdrawals${wait}`,
        as: customer,
        body: { amount: operation.amount, currency: 'USD', idempotency_key: operation.key },
      };
    default:
      return {
        path: `/v1/wallet/transfers${wait}`,
        as: customer,
        body: {
          from_user_id: operation.from,
          to_user_id: operation.to,
          amount: operation.amount,
          currency: 'USD',
          idempotency_key: operation.key,
          ...(operation.kind === 'conversion' ? { target_currency: 'EUR' } : {}),
        },
      };
  }
}

/** Runs one planned operation to its end, with the follow-ups the plan drew for it. */
export async function runOperation(
  client: ChaosClient,
  operation: PlannedOperation,
  seen: Observations,
): Promise<void> {
  const request = requestOf(operation);
  const send = async (body = request.body) => client.retrying('POST', request.path, request.as, body);
  if (operation.kind === 'frozen_recipient') await setFrozen(client, operation.to, true);
  const first =
    operation.kind === 'concurrent_duplicates' ? await sendConcurrently(send, operation.key, seen) : await send();
  if (operation.kind === 'frozen_recipient') await setFrozen(client, operation.to, false);
  const id = note(seen, operation.key, first);
  if (id === null) return;
  if (operation.kind === 'reused_key') {
    const other = await send({ ...request.body, amount: operation.amount + 1 });
    seen.reused.push({ key: operation.key, status: other.status, code: other.body?.error?.code ?? null });
  }
  if (operation.retry) note(seen, operation.key, await send());
  if (operation.kind === 'held') await decide(client, operation, id, seen);
  if (
    operation.reverse &&
    seen.reported_completed.has(id) &&
    operation.kind !== 'deposit' &&
    operation.kind !== 'withdrawal'
  )
    await reverse(client, operation, id, seen);
}

/** Three clients send the same request at once. */
async function sendConcurrently(send: () => Promise<Answer>, key: string, seen: Observations): Promise<Answer> {
  const answers = await Promise.all([send(), send(), send()]);
  const ids = answers.filter((answer) => answer.status < 300).map((answer) => String(answer.body.transfer_id));
  seen.duplicates.push({ key, ids });
  for (const answer of answers.slice(1)) note(seen, key, answer);
  return answers[0]!;
}

/** Records an answer; returns its transfer id when it accepted the request. */
function note(seen: Observations, key: string, answer: Answer): string | null {
  if (answer.status >= 200 && answer.status < 300 && typeof answer.body?.transfer_id === 'string') {
    const id = answer.body.transfer_id as string;
    const entry = seen.same_body.get(key) ?? { ids: new Set<string>(), answers: 0 };
    entry.ids.add(id);
    entry.answers++;
    seen.same_body.set(key, entry);
    seen.accepted.add(id);
    // A 202 (not waited for: held transfers) names the transfer only.
    if (answer.body.amount !== undefined)
      seen.told.set(id, (seen.told.get(id) ?? new Set<string>()).add(String(answer.body.amount)));
    if (answer.body.status === 'COMPLETED') seen.reported_completed.add(id);
    return id;
  }
  // A request whose retries ran out is counted by the client (gave_up); its fate is checked in the database all the same.
  if (!isRetryable(answer)) count(seen.unexpected, `${answer.status} ${answer.body?.error?.code ?? ''}`.trim());
  return null;
}

/** Ops freeze or unfreeze a wallet (other transfers to it meanwhile are refunded too, as they should be). */
async function setFrozen(client: ChaosClient, userId: string, frozen: boolean): Promise<void> {
  const answer = await client.retrying('POST', `/v1/ops/users/${userId}/${frozen ? 'freeze' : 'unfreeze'}`, ops, {
    reason: 'chaos',
  });
  if (answer.status !== 200)
    throw new Error(
      `${frozen ? 'freeze' : 'unfreeze'} of ${userId} answered ${answer.status} ${JSON.stringify(answer.body)}`,
    );
}

/** An operator approves or rejects a held transfer after a while; retried until the transfer took it. */
async function decide(client: ChaosClient, operation: PlannedOperation, id: string, seen: Observations): Promise<void> {
  await sleep(operation.decision_delay_ms);
  if (bySignal(client, operation)) return decideBySignal(client, operation, id, seen);
  const answer = await client.retrying('POST', `/v1/ops/transfers/${id}/${operation.decision}`, ops, {
    reason: `chaos ${operation.decision}`,
  });
  count(
    seen.decisions,
    `${operation.decision} ${answer.status}${answer.body?.error?.code ? ` ${answer.body.error.code}` : ''}`,
  );
}

/** An operator reverses a completed transfer; refused (the recipient spent it), half of them force it. */
async function reverse(
  client: ChaosClient,
  operation: PlannedOperation,
  id: string,
  seen: Observations,
): Promise<void> {
  seen.reverse_requested.add(id);
  if (bySignal(client, operation)) return reverseBySignal(client, operation, id, seen);
  const path = `/v1/ops/transfers/${id}/reverse`;
  let answer = await client.retrying('POST', path, ops, { reason: 'chaos reversal' });
  if (answer.status === 422 && answer.body?.error?.code === 'reversal_refused' && operation.force) {
    count(seen.reversals, '422 reversal_refused');
    answer = await client.retrying('POST', path, ops, { reason: 'chaos reversal, forced', allow_negative: true });
  }
  count(
    seen.reversals,
    `${answer.status}${answer.body?.error?.code ? ` ${answer.body.error.code}` : ` ${answer.body?.status ?? ''}`}`.trim(),
  );
}

/**
 * Half the operations' ops actions (drawn from their key, so the seeded plan is unchanged) go as
 * Temporal signals carrying an action token from the API, as the Web UI and the CLI send them.
 */
function bySignal(client: ChaosClient, operation: PlannedOperation): boolean {
  let hash = 0;
  for (const char of operation.key) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return client.signals !== undefined && hash % 2 === 0;
}

/** An action token from the ops endpoint, then the signal with it; false when either could not be had. */
async function signalWithToken(
  client: ChaosClient,
  id: string,
  action: 'approve' | 'reject' | 'reverse',
  extra: { allow_negative?: true },
  seen: Observations,
): Promise<boolean> {
  const issued = await client.retrying('POST', `/v1/ops/transfers/${id}/action-tokens`, ops, { action, ...extra });
  if (issued.status !== 201) {
    if (!isRetryable(issued)) count(seen.unexpected, `${issued.status} ${issued.body?.error?.code ?? ''}`.trim());
    return false;
  }
  return client.signals!.send(id, action, { token: issued.body.token, reason: `chaos ${action} by signal`, ...extra });
}

/** A signal is asynchronous: its effect shows in the record, read until `done` (or the record stays as it was). */
async function recordOnce(client: ChaosClient, id: string, done: (record: any) => boolean): Promise<any> {
  const deadline = Date.now() + signal_effect_wait_ms;
  for (;;) {
    const answer = await client.retrying('GET', `/v1/wallet/transfers/${id}`, ops);
    if (answer.status === 200 && (done(answer.body) || Date.now() > deadline)) return answer.body;
    if (answer.status !== 200) return null;
    await sleep(250);
  }
}

async function decideBySignal(client: ChaosClient, operation: PlannedOperation, id: string, seen: Observations) {
  const sent = await signalWithToken(client, id, operation.decision, {}, seen);
  const record = sent ? await recordOnce(client, id, (found) => found.status !== 'PENDING_REVIEW') : null;
  count(seen.decisions, `${operation.decision} signal ${sent ? (record?.status ?? 'unread') : 'not sent'}`);
}

async function reverseBySignal(client: ChaosClient, operation: PlannedOperation, id: string, seen: Observations) {
  const settled = (found: any) => found.status !== 'COMPLETED' || found.reversal_refused_reason != null;
  let record = (await signalWithToken(client, id, 'reverse', {}, seen)) ? await recordOnce(client, id, settled) : null;
  if (record?.status === 'COMPLETED' && record.reversal_refused_reason && operation.force) {
    count(seen.reversals, 'signal refused insufficient_funds');
    const forced = await signalWithToken(client, id, 'reverse', { allow_negative: true }, seen);
    record = forced ? await recordOnce(client, id, (found) => found.status !== 'COMPLETED') : null;
  }
  count(seen.reversals, `signal ${record?.status ?? 'not sent'}`);
}

function count(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

import { transfer_wait_max_s } from '../../api/schemas';
import { RequestError } from '../load/errors';
import { httpErrorOf, type HttpClient } from '../load/http';
import type { LoadTarget, PhaseName } from '../load/target';
import type { TransferPlan } from '../load/workload';

export interface TransferRoutes {
  /** POST here with the transfer body; answers 202 `{transfer_id}`. */
  submit: string;
  /** GET here with `?wait=N`; answers 200 `{status}` once final, or when the wait ends. */
  statusOf: (transferId: string) => string;
}

/** The wallet's routes; the engine floor serves the same contract under /floor. */
export const wallet_routes: TransferRoutes = {
  submit: '/v1/wallet/transfers',
  statusOf: (id) => `/v1/wallet/transfers/${id}`,
};
export const floor_routes: TransferRoutes = { submit: '/floor', statusOf: (id) => `/floor/${id}` };

/** How long to pause between GETs when a server answers a `?wait` at once (one without `?wait`). */
const poll_interval_ms = 20;

/**
 * How a client follows a transfer (`--flow`): `accept-then-wait` POSTs (the 202 is the accept)
 * and then GETs with `?wait`; `wait-in-post` POSTs with `?wait`, so the answer is the final
 * transfer, one request instead of two (and GETs with `?wait` only if the POST's wait ran out).
 */
export type TransferFlow = 'accept-then-wait' | 'wait-in-post';

/**
 * A target behind HTTP: submit with a POST (the accept latency ends at its 202), then GET with
 * `?wait` on the same server until the status is final (the completion latency ends there).
 * With the `wait-in-post` flow the POST itself waits, and accept and completion end together.
 */
export function httpTransferTarget(
  phase: PhaseName,
  client: HttpClient,
  routes: TransferRoutes,
  /** Sends each transfer as its payer (a customer's token) instead of the client's ops token. */
  tokenOf?: (userId: string) => Promise<string>,
  flow: TransferFlow = 'accept-then-wait',
): LoadTarget {
  const originOf = new Map<string, string>();
  const tokenFor = new Map<string, string>();
  return {
    phase,
    async submit(plan: TransferPlan, key: string, deadline_ms: number) {
      const origin = client.pickOrigin();
      const token = tokenOf ? await tokenOf(plan.fromUserId) : undefined;
      const path = flow === 'wait-in-post' ? `${routes.submit}?wait=${waitFor(deadline_ms)}` : routes.submit;
      const answer = await client.json('POST', origin, path, transferBody(plan, key), token);
      const transferId = (answer.body as { transfer_id?: string }).transfer_id;
      const expected = flow === 'wait-in-post' ? 200 : 202;
      if (answer.status !== expected || !transferId) throw httpErrorOf(answer);
      const final = flow === 'wait-in-post' && isFinal(answer.body);
      if (!final) {
        originOf.set(transferId, origin);
        if (token) tokenFor.set(transferId, token);
      }
      return { transferId, final };
    },
    async awaitFinal(transferId: string, deadline_ms: number) {
      const origin = originOf.get(transferId) ?? client.pickOrigin();
      const token = tokenFor.get(transferId);
      try {
        for (;;) {
          const wait_s = waitFor(deadline_ms);
          if (wait_s <= 0) throw new RequestError('not_final', true);
          const asked_ms = performance.now();
          const answer = await client.json(
            'GET',
            origin,
            `${routes.statusOf(transferId)}?wait=${wait_s}`,
            undefined,
            token,
          );
          if (answer.status !== 200) throw httpErrorOf(answer);
          if (isFinal(answer.body)) return;
          if (performance.now() - asked_ms < wait_s * 1000 - 100)
            await new Promise((resolve) => setTimeout(resolve, poll_interval_ms));
        }
      } finally {
        originOf.delete(transferId);
        tokenFor.delete(transferId);
      }
    },
  };
}

/** The `?wait` that ends by the deadline, at most the API's longest. */
function waitFor(deadline_ms: number): number {
  return Math.min(transfer_wait_max_s, Math.floor((deadline_ms - performance.now()) / 1000));
}

/** True when the answer shows the transfer COMPLETED; throws the refusal when it ended otherwise. */
function isFinal(body: unknown): boolean {
  const { status, failure_reason } = body as { status?: string; failure_reason?: string };
  if (status === 'COMPLETED') return true;
  if (status === 'FAILED' || status === 'REVERSED')
    throw new RequestError(`failed_${failure_reason ?? status.toLowerCase()}`);
  return false;
}

/** The body of POST /v1/wallet/transfers; amounts are JSON integers of minor units. */
function transferBody(plan: TransferPlan, key: string) {
  if (plan.amountMinor > BigInt(Number.MAX_SAFE_INTEGER))
    throw new Error(`amount ${plan.amountMinor} does not fit a JSON number`);
  return {
    from_user_id: plan.fromUserId,
    to_user_id: plan.toUserId,
    amount: Number(plan.amountMinor),
    currency: bench_currency,
    ...(plan.targetCurrency ? { target_currency: plan.targetCurrency } : {}),
    idempotency_key: key,
  };
}

export const bench_currency = 'USD';
/** What `--fx` transfers convert into, at bench_fx_rate (set on the target before seeding). */
export const bench_fx_currency = 'EUR';
export const bench_fx_rate = '0.9215';

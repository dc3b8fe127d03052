import { verifyActionToken } from '../domain/action-tokens';
import { operator_unverified, type ActionTokenCheck, type ActionTokenVerdict } from '../domain/operators';
import { recordOpsAction } from '../ledger/audit';
import { currentExecution, legLogger } from './leg-context';
import type { ActivityDependencies } from './types';

/** An operator's request to a transfer that was refused before anything moved, for the audit. */
export interface RefusedAction {
  transferId: string;
  ownerUserId: string;
  /** approve, reject, reverse or retry: what was asked. */
  action: string;
  /** The verified operator; null when the request carried no proof that holds. */
  operator: string | null;
  refusal: string;
  message: string;
  /** The request's reason, when it is one the audit can store. */
  reason: string | null;
  via: 'signal' | 'update';
  /** The run's count of refusals: keys the row, so a retried activity writes it once. */
  seq: number;
}

/** The audit keeps bounded values only: a row that cannot be stored would be retried in vain. */
const message_length_max = 300;
const reason_length_max = 500;

/** Who sent an operator's request: the workflow trusts only this answer, never the payload's claims. */
export async function checkActionToken(
  deps: ActivityDependencies,
  check: ActionTokenCheck,
): Promise<ActionTokenVerdict> {
  const verdict = await verifyActionToken(deps.actionTokens, check);
  if (!verdict.ok)
    legLogger(deps, check.transferId).warn(
      { action: check.action, refusal: verdict.refusal, operator: verdict.operator },
      'ops action token refused',
    );
  return verdict;
}

/** Writes a refused request to the owner's shard's audit (action `refused`), once per run and count. */
export async function recordRefusal(deps: ActivityDependencies, input: RefusedAction): Promise<void> {
  await recordOpsAction(deps.shards.pool(deps.shards.shardOf(input.ownerUserId)), {
    operator: input.operator ?? operator_unverified,
    action: 'refused',
    targetType: 'transfer',
    targetId: input.transferId,
    reason: storable(input.reason, reason_length_max),
    via: input.via,
    details: {
      action: input.action,
      refusal: input.refusal,
      message: storable(input.message, message_length_max) ?? input.refusal,
    },
    dedupeKey: `${input.transferId}:refused:${currentExecution().runId}:${input.seq}`,
  });
  legLogger(deps, input.transferId).warn(
    { action: input.action, refusal: input.refusal, operator: input.operator, via: input.via },
    'ops action refused',
  );
}

/** The text cut to its bound, or null when PostgreSQL text cannot hold it (NUL, unpaired surrogates). */
function storable(text: string | null, lengthMax: number): string | null {
  if (text === null || /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text))
    return null;
  const cut = [...text].slice(0, lengthMax).join('');
  return cut.trim().length > 0 ? cut : null;
}

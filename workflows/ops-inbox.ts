import { ApplicationFailure, log, patched, setHandler } from '@temporalio/workflow';
import type { WalletActivities } from '../activities';
import type { ActionTokenVerdict } from '../domain/operators';
import {
  approveSignal,
  approveUpdate,
  rejectSignal,
  rejectUpdate,
  retrySignal,
  retryUpdate,
  reverseSignal,
  reverseUpdate,
  type RetryAnswer,
  type ReverseAnswer,
  type ReviewAnswer,
  type TransferState,
  type TypedOpsRequest,
} from './messages';
import {
  reasonOf,
  signedRequestOf,
  typedOperatorOf,
  typedRequestProblem,
  type Problem,
  type SignedRequest,
} from './ops-requests';

export type { Problem } from './ops-requests';

/**
 * From this patch on, an operator's signal or update must carry an action token, verified by a
 * local activity before anything else is decided. Histories recorded before it replay the typed
 * operator they carried. The patch is taken when the first request arrives, so a transfer
 * started by earlier code (in its reversal window, say) refuses typed operators from the deploy on.
 */
const action_tokens_patch = 'ops-action-tokens';
/**
 * From this patch on, requests are admitted in turn with the main loop:
 * - an approval counts from the moment its token is accepted (before, two tokens verified in the
 *   same workflow task were both admitted, neither being queued yet when the other was checked,
 *   and the main loop then dropped the second without an audit);
 * - the main loop takes a request only while no other is being admitted, so the local activities
 *   of handlers and of the loop are scheduled in one order however their results are grouped
 *   into activations (a replay groups them differently than the run did).
 * Taken with the action-token patch, when a request arrives.
 */
const admitted_in_turn_patch = 'ops-requests-admitted-in-turn';
/** Bounds on what the state keeps: ignored signals shown, refusals audited, tokens remembered as used. */
const ignored_signals_kept_max = 20;
const refusals_audited_max = 50;
const used_tokens_kept_max = 100;

export type OpsVia = 'signal' | 'update';
type ActionName = 'approve' | 'reject' | 'reverse' | 'retry';

/** A request whose sender is known: the identity to record, the reason, the reversal's override. */
export interface AcceptedRequest {
  operator: string;
  reason: string;
  allowNegative: boolean;
}

export type QueuedRequest =
  | { name: 'approve' | 'reject'; request: AcceptedRequest; via: OpsVia; answer?: (answer: ReviewAnswer) => void }
  | { name: 'reverse'; request: AcceptedRequest; via: OpsVia; answer?: (answer: ReverseAnswer) => void }
  | RetryRequest;

/** `retry`: only while the transfer is NEEDS_ATTENTION; the workflow takes it with takeRetries. */
export type RetryRequest = {
  name: 'retry';
  request: AcceptedRequest;
  via: OpsVia;
  answer?: (answer: RetryAnswer) => void;
};

/** The local activities the inbox runs: verifying a token, and auditing a refusal. */
export type OpsInboxActivities = Pick<WalletActivities, 'verifyActionToken' | 'recordRefusedAction'>;

/** The transfer the requests are for, and whose shard keeps its audit. */
export interface OpsTarget {
  transferId: string;
  ownerUserId: string;
}

/**
 * Operators' requests to a transfer, from signals (Web UI, CLI) and updates (HTTP API), in the
 * order they came. A request proves who sent it with an action token, which a local activity
 * verifies (signature, expiry, action, transfer): the answer is in the history, so a replay never
 * verifies again. A request that cannot apply moves nothing and is audited as `refused`; a
 * refused signal is also kept in the state's ignoredSignals, a refused update fails with the
 * refusal's code. The workflow's main loop takes accepted requests one at a time.
 */
export class OpsInbox {
  private readonly queue: QueuedRequest[] = [];
  /** The request the main loop took last: an approval being recorded is in neither the queue nor the state yet. */
  private taken: QueuedRequest | undefined;
  private readonly usedTokens: string[] = [];
  /** Operators whose approval was admitted: queued, being recorded, or recorded. */
  private readonly admittedApprovers = new Set<string>();
  /** Requests whose token is being verified or whose refusal is being audited. */
  private admitting = 0;
  private admittedInTurn = false;
  private refusals = 0;
  private closed = false;

  /**
   * `excludedApprovers`: who may not approve this transfer (its parties and the ops operator who
   * made the request), as normalized operator identities.
   */
  constructor(
    private readonly state: TransferState,
    private readonly target: OpsTarget,
    private readonly activities: OpsInboxActivities,
    private readonly excludedApprovers: readonly string[] = [],
  ) {
    for (const [name, signal] of [
      ['approve', approveSignal],
      ['reject', rejectSignal],
      ['reverse', reverseSignal],
      ['retry', retrySignal],
    ] as const) {
      setHandler(signal, (payload: unknown) => this.onSignal(name, payload));
    }
    for (const [name, update] of [
      ['approve', approveUpdate],
      ['reject', rejectUpdate],
    ] as const) {
      setHandler(update, (payload: unknown) => this.onUpdate<ReviewAnswer>(name, payload), {
        validator: (payload: unknown) => refuseIf(objectProblem(payload) ?? this.stateProblem(name)),
      });
    }
    setHandler(reverseUpdate, (payload: unknown) => this.onUpdate<ReverseAnswer>('reverse', payload), {
      validator: (payload: unknown) => refuseIf(objectProblem(payload) ?? this.stateProblem('reverse')),
    });
    setHandler(retryUpdate, (payload: unknown) => this.onUpdate<RetryAnswer>('retry', payload), {
      validator: (payload: unknown) => refuseIf(objectProblem(payload) ?? this.stateProblem('retry')),
    });
  }

  get hasRetry(): boolean {
    return this.mayTake && this.queue.some((request) => request.name === 'retry');
  }

  /** Takes every queued retry out of the queue (the first is the one acted on), leaving other requests in order. */
  takeRetries(): RetryRequest[] {
    const retries = this.queue.filter((request): request is RetryRequest => request.name === 'retry');
    this.queue.splice(0, this.queue.length, ...this.queue.filter((request) => request.name !== 'retry'));
    return retries;
  }

  get hasRequests(): boolean {
    return this.mayTake && this.queue.length > 0;
  }

  private get mayTake(): boolean {
    return !this.admittedInTurn || this.admitting === 0;
  }

  next(): QueuedRequest | undefined {
    this.taken = this.queue.shift();
    return this.taken;
  }

  /**
   * Answers what is still queued when the workflow ends, and from then on every request as it
   * is admitted (one may still be verifying its token), so no caller waits on a closed run.
   */
  closeAll(): void {
    this.closed = true;
    for (let request = this.next(); request; request = this.next()) this.answerClosed(request);
  }

  private enqueue(request: QueuedRequest): void {
    if (this.closed) this.answerClosed(request);
    else this.queue.push(request);
  }

  private answerClosed(request: QueuedRequest): void {
    if (request.name === 'reverse')
      request.answer?.({ outcome: this.state.status === 'REVERSED' ? 'already_reversed' : 'window_closed' });
    else if (request.name === 'retry') request.answer?.({ status: this.state.status, step: this.state.step });
    else request.answer?.(reviewAnswerOf(this.state));
  }

  private async onSignal(name: ActionName, payload: unknown): Promise<void> {
    if (!patched(action_tokens_patch)) return this.acceptTypedSignal(name, payload);
    const admitted = await this.admitInTurn(name, payload, 'signal');
    if ('problem' in admitted) return this.ignore(name, admitted.problem);
    this.enqueue({ name, request: admitted, via: 'signal' } as QueuedRequest);
  }

  private async onUpdate<Answer>(name: ActionName, payload: unknown): Promise<Answer> {
    if (patched(action_tokens_patch)) {
      const admitted = await this.admitInTurn(name, payload, 'update');
      if ('problem' in admitted) refuseIf(admitted.problem);
      return new Promise<Answer>((answer) =>
        this.enqueue({ name, request: admitted as AcceptedRequest, via: 'update', answer } as QueuedRequest),
      );
    }
    // A history from before the patch: its validator (not run in replay) checked the typed operator.
    const typed = payload as TypedOpsRequest;
    const request = { operator: typedOperatorOf(typed.operator), reason: typed.reason, allowNegative: false };
    if (name === 'reverse') request.allowNegative = typed.allow_negative === true;
    return new Promise<Answer>((answer) => this.queue.push({ name, request, via: 'update', answer } as QueuedRequest));
  }

  private async admitInTurn(
    name: ActionName,
    payload: unknown,
    via: OpsVia,
  ): Promise<AcceptedRequest | { problem: Problem }> {
    this.admittedInTurn ||= patched(admitted_in_turn_patch);
    this.admitting++;
    try {
      return await this.admit(name, payload, via);
    } finally {
      this.admitting--;
    }
  }

  /**
   * Who sent the request, from its token alone, and whether it can apply now; a refusal is
   * audited. Each token acts once: a token seen in the history cannot be sent again.
   */
  private async admit(
    name: ActionName,
    payload: unknown,
    via: OpsVia,
  ): Promise<AcceptedRequest | { problem: Problem }> {
    const signed = signedRequestOf(payload);
    if ('problem' in signed) return this.refuse(name, via, null, signed.problem, reasonOf(payload));
    const verdict = await this.verify(name, signed.token);
    if (!verdict.ok)
      return this.refuse(
        name,
        via,
        verdict.operator,
        { code: verdict.refusal, message: verdict.message },
        signed.reason,
      );
    const problem = this.tokenProblem(name, verdict, signed) ?? this.requestProblem(name, verdict.operator);
    if (problem) return this.refuse(name, via, verdict.operator, problem, signed.reason);
    // Counted now, in the same step as the check: another token's verdict may resume before this one is queued.
    if (name === 'approve') this.admittedApprovers.add(verdict.operator);
    return { operator: verdict.operator, reason: signed.reason, allowNegative: verdict.allowNegative };
  }

  private async verify(name: ActionName, token: string): Promise<ActionTokenVerdict> {
    try {
      return await this.activities.verifyActionToken({ token, action: name, transferId: this.target.transferId });
    } catch {
      // A check that cannot run refuses the request; it never fails the transfer. The operator sends it again.
      return { ok: false, refusal: 'action_token_invalid', message: 'the token could not be verified', operator: null };
    }
  }

  private tokenProblem(
    name: ActionName,
    verdict: Extract<ActionTokenVerdict, { ok: true }>,
    signed: SignedRequest,
  ): Problem | null {
    if (this.usedTokens.includes(verdict.tokenId))
      return { code: 'action_token_used', message: 'this action token was used already; ask for a new one' };
    this.usedTokens.push(verdict.tokenId);
    if (this.usedTokens.length > used_tokens_kept_max) this.usedTokens.shift();
    if (name === 'reverse' && signed.allowNegative !== undefined && signed.allowNegative !== verdict.allowNegative)
      return {
        code: 'action_token_mismatch',
        message: `allow_negative is ${signed.allowNegative} but the token was issued with allow_negative ${verdict.allowNegative}`,
      };
    return null;
  }

  private async refuse(
    name: ActionName,
    via: OpsVia,
    operator: string | null,
    problem: Problem,
    reason: string | null,
  ): Promise<{ problem: Problem }> {
    log.warn('ops request refused', { action: name, why: problem.code, via, operator });
    if (this.refusals >= refusals_audited_max) return { problem };
    const seq = ++this.refusals;
    const { transferId, ownerUserId } = this.target;
    const refusal = { transferId, ownerUserId, action: name, operator, reason, via, seq };
    try {
      await this.activities.recordRefusedAction({ ...refusal, refusal: problem.code, message: problem.message });
    } catch {
      log.error('a refused ops request could not be audited', { action: name, why: problem.code, seq });
    }
    return { problem };
  }

  private ignore(name: ActionName, problem: Problem): void {
    log.warn('ops signal ignored', { signal: name, why: problem.code });
    this.state.ignoredSignals.push({ name, why: `${problem.code}: ${problem.message}`, at: new Date().toISOString() });
    if (this.state.ignoredSignals.length > ignored_signals_kept_max) this.state.ignoredSignals.shift();
  }

  /** A signal of a history recorded before action tokens, decided as that code decided it. */
  private acceptTypedSignal(name: ActionName, payload: unknown): void {
    const problem = typedRequestProblem(payload);
    if (problem) return this.ignore(name, problem);
    const typed = payload as TypedOpsRequest;
    const operator = typedOperatorOf(typed.operator);
    const later = this.requestProblem(name, operator);
    if (later) return this.ignore(name, later);
    const allowNegative = typed.allow_negative;
    if (name === 'reverse' && allowNegative !== undefined && typeof allowNegative !== 'boolean')
      return this.ignore(name, { code: 'invalid_request', message: 'allow_negative must be true or false' });
    const request = { operator, reason: typed.reason, allowNegative: allowNegative === true };
    this.queue.push({ name, request, via: 'signal' } as QueuedRequest);
  }

  private requestProblem(name: ActionName, operator: string): Problem | null {
    return this.stateProblem(name) ?? (name === 'approve' ? this.approverProblem(operator) : null);
  }

  private stateProblem(name: ActionName): Problem | null {
    if (name === 'retry') {
      if (this.state.status === 'NEEDS_ATTENTION') return null;
      return {
        code: 'transfer_not_needing_attention',
        message: `only a transfer in NEEDS_ATTENTION can be retried; this one is ${this.state.status}`,
      };
    }
    if (name !== 'reverse') {
      if (!this.state.review || this.state.status !== 'PENDING_REVIEW')
        return { code: 'transfer_not_in_review', message: `the transfer is ${this.state.status}, not held for review` };
      return null;
    }
    if (this.state.status === 'REVERSED') return null; // a second reverse is a no-op, answered as such
    if (this.state.status !== 'COMPLETED')
      return {
        code: 'transfer_not_reversible',
        message: `only a COMPLETED transfer can be reversed; this one is ${this.state.status}`,
      };
    if (this.state.reversalDeadline === null)
      return { code: 'reversal_window_closed', message: 'this transfer has no reversal window open' };
    return null;
  }

  /** Four eyes are independent eyes: not a party, not the maker, and each operator counts once. */
  private approverProblem(operator: string): Problem | null {
    if (this.excludedApprovers.includes(operator))
      return {
        code: 'approver_not_independent',
        message: `${operator} made or is a party to this transfer and may not approve it`,
      };
    if (this.state.review!.approvals.some((approval) => approval.operator === operator))
      return {
        code: 'second_approver_required',
        message: `${operator} already approved; another operator must approve`,
      };
    if (this.admittedInTurn && this.admittedApprovers.has(operator))
      return { code: 'second_approver_required', message: `${operator}'s approval is already being recorded` };
    const pending = this.taken ? [this.taken, ...this.queue] : this.queue;
    if (pending.some((queued) => queued.name === 'approve' && queued.request.operator === operator))
      return { code: 'second_approver_required', message: `${operator}'s approval is already being recorded` };
    return null;
  }
}

/** A validator refuses an update by throwing; the type is the API's error code. */
function refuseIf(problem: Problem | null): void {
  if (problem) throw ApplicationFailure.create({ type: problem.code, message: problem.message, nonRetryable: true });
}

function objectProblem(payload: unknown): Problem | null {
  if (typeof payload === 'object' && payload !== null) return null;
  return { code: 'invalid_request', message: 'send {"token": "...", "reason": "..."}' };
}

export function reviewAnswerOf(state: TransferState): ReviewAnswer {
  return {
    status: state.status,
    failure_reason: state.failureReason,
    approvals: state.review?.approvals.length ?? 0,
    approvals_required: state.review?.approvalsRequired ?? 0,
  };
}

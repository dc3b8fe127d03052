import { ApplicationFailure, log, setHandler } from '@temporalio/workflow';
import {
  approveSignal,
  approveUpdate,
  rejectSignal,
  rejectUpdate,
  reverseSignal,
  reverseUpdate,
  type OpsRequest,
  type ReverseAnswer,
  type ReverseRequest,
  type ReviewAnswer,
  type TransferState,
} from './messages';

/** Bounds on what an operator's request may carry, and on how many ignored signals the state keeps. */
const operator_length_max = 128;
const reason_length_max = 500;
const ignored_signals_kept_max = 20;

export type OpsVia = 'signal' | 'update';

export type QueuedRequest =
  | { name: 'approve' | 'reject'; request: OpsRequest; via: OpsVia; answer?: (answer: ReviewAnswer) => void }
  | { name: 'reverse'; request: ReverseRequest; via: OpsVia; answer?: (answer: ReverseAnswer) => void };

/**
 * Operators' requests to a transfer, from signals (Web UI, CLI) and updates (HTTP API), in the
 * order they came. Updates are validated before they are accepted, so the caller hears at once
 * when a request cannot apply; a signal that cannot apply is logged and kept in the state's
 * ignoredSignals for ops to see. The workflow's main loop takes requests one at a time.
 */
export class OpsInbox {
  private readonly queue: QueuedRequest[] = [];

  /**
   * `excludedApprovers`: who may not approve this transfer (its parties and the ops operator who
   * made the request), as normalised operator ids.
   */
  constructor(
    private readonly state: TransferState,
    private readonly excludedApprovers: readonly string[] = [],
  ) {
    for (const [name, signal] of [
      ['approve', approveSignal],
      ['reject', rejectSignal],
    ] as const) {
      setHandler(signal, (request) => this.acceptSignal(name, request, () => this.reviewProblem(name, request)));
    }
    setHandler(reverseSignal, (request) => this.acceptSignal('reverse', request, () => this.reverseProblem(request)));
    for (const [name, update] of [
      ['approve', approveUpdate],
      ['reject', rejectUpdate],
    ] as const) {
      setHandler(
        update,
        (request) => new Promise<ReviewAnswer>((answer) => this.queue.push({ name, request, via: 'update', answer })),
        {
          validator: (request) => refuseIf(this.reviewProblem(name, request)),
        },
      );
    }
    setHandler(
      reverseUpdate,
      (request) =>
        new Promise<ReverseAnswer>((answer) => this.queue.push({ name: 'reverse', request, via: 'update', answer })),
      {
        validator: (request) => refuseIf(this.reverseProblem(request)),
      },
    );
  }

  get hasRequests(): boolean {
    return this.queue.length > 0;
  }

  next(): QueuedRequest | undefined {
    return this.queue.shift();
  }

  /** Answers what is still queued when the workflow ends, so no caller waits on a closed run. */
  closeAll(): void {
    for (let request = this.next(); request; request = this.next()) {
      if (request.name === 'reverse')
        request.answer?.({ outcome: this.state.status === 'REVERSED' ? 'already_reversed' : 'window_closed' });
      else request.answer?.(reviewAnswerOf(this.state));
    }
  }

  private acceptSignal(name: QueuedRequest['name'], request: unknown, problemOf: () => Problem | null): void {
    const problem = problemOf();
    if (problem) {
      log.warn('ops signal ignored', { signal: name, why: problem.code });
      this.state.ignoredSignals.push({
        name,
        why: `${problem.code}: ${problem.message}`,
        at: new Date().toISOString(),
      });
      if (this.state.ignoredSignals.length > ignored_signals_kept_max) this.state.ignoredSignals.shift();
      return;
    }
    this.queue.push({ name, request, via: 'signal' } as QueuedRequest);
  }

  private reviewProblem(name: 'approve' | 'reject', request: unknown): Problem | null {
    const shape = opsRequestProblem(request);
    if (shape) return shape;
    const review = this.state.review;
    if (!review || this.state.status !== 'PENDING_REVIEW')
      return { code: 'transfer_not_in_review', message: `the transfer is ${this.state.status}, not held for review` };
    const operator = normalizeOperator((request as OpsRequest).operator);
    if (name === 'approve' && this.excludedApprovers.includes(operator)) {
      return {
        code: 'approver_not_independent',
        message: `${operator} made or is a party to this transfer and may not approve it`,
      };
    }
    if (name === 'approve' && review.approvals.some((approval) => approval.operator === operator)) {
      return {
        code: 'second_approver_required',
        message: `${operator} already approved; another operator must approve`,
      };
    }
    if (
      name === 'approve' &&
      this.queue.some((queued) => queued.name === 'approve' && normalizeOperator(queued.request.operator) === operator)
    ) {
      return { code: 'second_approver_required', message: `${operator}'s approval is already being recorded` };
    }
    return null;
  }

  private reverseProblem(request: unknown): Problem | null {
    const shape = opsRequestProblem(request);
    if (shape) return shape;
    const allowNegative = (request as ReverseRequest).allow_negative;
    if (allowNegative !== undefined && typeof allowNegative !== 'boolean')
      return { code: 'invalid_request', message: 'allow_negative must be true or false' };
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
}

export interface Problem {
  code:
    | 'invalid_request'
    | 'transfer_not_in_review'
    | 'second_approver_required'
    | 'approver_not_independent'
    | 'transfer_not_reversible'
    | 'reversal_window_closed';
  message: string;
}

/** A validator refuses an update by throwing; the type is the API's error code. */
function refuseIf(problem: Problem | null): void {
  if (problem) throw ApplicationFailure.create({ type: problem.code, message: problem.message, nonRetryable: true });
}

function opsRequestProblem(request: unknown): Problem | null {
  if (typeof request !== 'object' || request === null)
    return { code: 'invalid_request', message: 'send {"operator": "...", "reason": "..."}' };
  const { operator, reason } = request as Partial<Record<keyof OpsRequest, unknown>>;
  if (
    typeof operator !== 'string' ||
    operator.trim().length === 0 ||
    operator.length > operator_length_max ||
    !isStorable(operator)
  ) {
    return {
      code: 'invalid_request',
      message: `operator must be a non-empty string of at most ${operator_length_max} characters, without NUL or unpaired surrogates`,
    };
  }
  if (
    typeof reason !== 'string' ||
    reason.trim().length === 0 ||
    reason.length > reason_length_max ||
    !isStorable(reason)
  ) {
    return {
      code: 'invalid_request',
      message: `reason must be a non-empty string of at most ${reason_length_max} characters, without NUL or unpaired surrogates`,
    };
  }
  return null;
}

/** PostgreSQL text cannot hold NUL or unpaired UTF-16 surrogates: such a request would be retried forever. */
function isStorable(value: string): boolean {
  return !/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);
}

/** Operators are compared and recorded trimmed and lower-cased: `Ops_A` and `ops_a` are one person. */
export function normalizeOperator(operator: string): string {
  return operator.trim().toLowerCase();
}

export function reviewAnswerOf(state: TransferState): ReviewAnswer {
  return {
    status: state.status,
    failure_reason: state.failureReason,
    approvals: state.review?.approvals.length ?? 0,
    approvals_required: state.review?.approvalsRequired ?? 0,
  };
}

import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { TransferStatus } from '../domain/transfers';
import {
  AmountMinorKey,
  BatchStatusKey,
  CurrencyKey,
  FromUserKey,
  ToUserKey,
  TransferStatusKey,
} from '../workflows/search-attributes';
import { transferWorkflow } from '../workflows/transfer';
import { transferBatchWorkflow } from '../workflows/transfer-batch';

/**
 * Transfers as Temporal's visibility store sees them, through the search attributes the
 * workflow keeps current: the ops listing and the stuck monitor read them from here, so both
 * mean the same by "stuck". Visibility is eventually consistent: a transfer shows up, and
 * changes status, a moment after its workflow did.
 */

/** A visibility call taking longer fails, so neither a request nor a monitor run hangs on Temporal. */
const visibility_call_timeout_ms = 5_000;

const transfer_workflows = `WorkflowType = '${transferWorkflow.name}'`;

export function allTransfersQuery(): string {
  return transfer_workflows;
}

/** Open and closed workflows alike: the status is the transfer's, not the workflow's. */
export function transfersInStatusQuery(status: TransferStatus): string {
  return `${transfer_workflows} AND ${TransferStatusKey.name} = '${keyword(status)}'`;
}

/** Transfers waiting for an operator; they have their own timeout, so they are a queue, not stuck. */
export function reviewQueueQuery(): string {
  return `${transfer_workflows} AND ExecutionStatus = 'Running' AND ${TransferStatusKey.name} = 'PENDING_REVIEW'`;
}

/**
 * Running and either NEEDS_ATTENTION (a step failed in a way no retry can fix: ops must fix the
 * cause and send `retry`), or still PENDING long after they started: the money has not finished
 * moving (a shard down, no worker, a step retrying all that time). Given the review timeout, also
 * a hold still PENDING_REVIEW more than stuckAfterMs past its deadline (its expiry keeps failing).
 * A COMPLETED transfer whose workflow stays open for its reversal window is not stuck: its money moved.
 */
export function stuckTransfersQuery(
  nowMs: number,
  stuckAfterMs: number,
  reviewTimeoutMs: number | null = null,
): string {
  const startedBefore = new Date(nowMs - stuckAfterMs).toISOString();
  const clauses = [
    `${TransferStatusKey.name} = 'NEEDS_ATTENTION'`,
    `(${TransferStatusKey.name} = 'PENDING' AND StartTime < '${startedBefore}')`,
  ];
  if (reviewTimeoutMs !== null) {
    const heldBefore = new Date(nowMs - stuckAfterMs - reviewTimeoutMs).toISOString();
    clauses.push(`(${TransferStatusKey.name} = 'PENDING_REVIEW' AND StartTime < '${heldBefore}')`);
  }
  return `${transfer_workflows} AND ExecutionStatus = 'Running' AND (${clauses.join(' OR ')})`;
}

/** Running transfers whose step failed for good and wait for an operator's `retry`. */
export function needsAttentionQuery(): string {
  return `${transfer_workflows} AND ExecutionStatus = 'Running' AND ${TransferStatusKey.name} = 'NEEDS_ATTENTION'`;
}

/** Running batches whose step failed for good (workflows/batch-attention.ts); each tries it again by itself. */
export function batchesNeedingAttentionQuery(): string {
  return `WorkflowType = '${transferBatchWorkflow.name}' AND ExecutionStatus = 'Running' AND ${BatchStatusKey.name} = 'NEEDS_ATTENTION'`;
}

/** Values come from fixed lists; this keeps a future caller from quoting its way out of the query. */
function keyword(value: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(value)) throw new Error(`not a keyword for a visibility query: ${value}`);
  return value;
}

export interface TransferSummary {
  transferId: string;
  status: string | null;
  fromUser: string | null;
  toUser: string | null;
  amountMinor: number | null;
  currency: string | null;
  startedAt: Date;
}

/** One page of a listing; `nextPageToken` is Temporal's, null on the last page. */
export async function listTransfers(
  client: Client,
  options: { query: string; pageSize: number; pageToken?: Uint8Array },
): Promise<{ transfers: TransferSummary[]; nextPageToken: Uint8Array | null }> {
  const response = await client.withDeadline(Date.now() + visibility_call_timeout_ms, () =>
    client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query: options.query,
      pageSize: options.pageSize,
      ...(options.pageToken ? { nextPageToken: options.pageToken } : {}),
    }),
  );
  const transfers = response.executions.map((execution): TransferSummary => {
    const fields = execution.searchAttributes?.indexedFields ?? {};
    return {
      transferId: execution.execution?.workflowId ?? '',
      status: stringOf(attribute(fields, TransferStatusKey.name)),
      fromUser: stringOf(attribute(fields, FromUserKey.name)),
      toUser: stringOf(attribute(fields, ToUserKey.name)),
      amountMinor: integerOf(attribute(fields, AmountMinorKey.name)),
      currency: stringOf(attribute(fields, CurrencyKey.name)),
      startedAt: dateOf(execution.startTime),
    };
  });
  const token = response.nextPageToken;
  return { transfers, nextPageToken: token && token.length > 0 ? token : null };
}

/** How many transfers match (approximate, like all of visibility). */
export async function countTransfers(client: Client, query: string): Promise<number> {
  const { count } = await client.withDeadline(Date.now() + visibility_call_timeout_ms, () =>
    client.workflow.count(query),
  );
  return count;
}

/** Search attribute values are JSON payloads; one that cannot be read is shown as missing. */
function attribute(fields: Record<string, Payload>, name: string): unknown {
  const payload = fields[name];
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return undefined;
  }
}

function stringOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function integerOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

/** Protobuf timestamps carry seconds as a Long. */
function dateOf(
  timestamp: { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined,
): Date {
  const seconds = timestamp?.seconds;
  const wholeSeconds = typeof seconds === 'number' ? seconds : (seconds?.toNumber() ?? 0);
  return new Date(wholeSeconds * 1000 + Math.floor((timestamp?.nanos ?? 0) / 1_000_000));
}

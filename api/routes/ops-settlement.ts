import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { ShardSet } from '../../db/shards';
import { reference_shard } from '../../domain/shard-routing';
import { latestSettlementRun, type SettlementRunRecord } from '../../ledger/settlement-runs';
import { settlementReconcileWorkflow } from '../../workflows/settlement-reconcile';
import { requireOps } from '../auth';
import { ApiError } from '../errors';
import { sendJson } from '../json';

export interface OpsSettlementDependencies {
  shards: ShardSet;
  client: Client;
  taskQueue: string;
}

/** A run reads three statements and every shard's lines of a day; past this the caller reads the result later with GET. */
const run_wait_ms = 60_000;

/**
 * Settlement reconciliation (docs/rails.md): GET a banking day's latest run, or POST to run one
 * now. The `wallet-settlement-reconciliation` Schedule runs yesterday and today on its own.
 */
export function opsSettlementRoutes(deps: OpsSettlementDependencies): Router {
  const router = Router();

  router.get('/v1/ops/settlement/:date', async (request, response) => {
    requireOps(request);
    const date = statementDateOf(request);
    const run = await latestSettlementRun(deps.shards.pool(reference_shard), date);
    if (!run)
      throw new ApiError(
        'settlement_not_reconciled',
        `no settlement reconciliation has run for ${date}; POST /v1/ops/settlement/${date} runs one`,
      );
    sendJson(response, 200, runJson(run));
  });

  router.post('/v1/ops/settlement/:date', async (request, response) => {
    requireOps(request);
    const date = statementDateOf(request);
    const handle = await deps.client.workflow.start(settlementReconcileWorkflow, {
      taskQueue: deps.taskQueue,
      workflowId: `settlement-reconciliation-${date}-${randomUUID()}`,
      args: [[date]],
    });
    const finished = await Promise.race([
      handle.result().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), run_wait_ms).unref()),
    ]);
    if (!finished) {
      sendJson(response, 202, { workflow_id: handle.workflowId, statement_date: date });
      return;
    }
    const run = await latestSettlementRun(deps.shards.pool(reference_shard), date);
    sendJson(response, 200, runJson(run!));
  });

  return router;
}

function statementDateOf(request: Request): string {
  const date = z.iso.date().safeParse(request.params.date);
  if (!date.success) throw new ApiError('invalid_request', 'the statement date is YYYY-MM-DD');
  return date.data;
}

/** The stored report's amounts are decimal strings; the API answers amounts as exact JSON integers. */
function runJson(run: SettlementRunRecord): Record<string, unknown> {
  return {
    run_id: run.runId.toString(),
    statement_date: run.statementDate,
    started_at: run.startedAt.toISOString(),
    finished_at: run.finishedAt.toISOString(),
    ok: run.ok,
    break_count: run.breakCount,
    workflow_id: run.workflowId,
    report: snakeCaseAmounts(run.report),
  };
}

function snakeCaseAmounts(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCaseAmounts);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
      /Minor$/.test(key) && typeof inner === 'string' ? BigInt(inner) : snakeCaseAmounts(inner),
    ]),
  );
}

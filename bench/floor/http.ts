import http from 'node:http';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import {
  AmountMinorKey,
  CurrencyKey,
  FromUserKey,
  ToUserKey,
  TransferStatusKey,
} from '../../workflows/search-attributes';
import type { FloorCompletions } from './completions';
import { floorWorkflow } from './workflow';

export interface FloorServerDependencies {
  client: Client;
  taskQueue: string;
  completions: FloorCompletions;
}

const body_size_max_bytes = 16 * 1024;
const wait_max_s = 30;

/**
 * The wallet's transfer contract, for the no-op workflow: `POST /floor` starts one eagerly and
 * answers 202 `{transfer_id}` (with `?wait=N`, 200 once it finished); `GET /floor/{id}?wait=N`
 * answers once it finished. Plain node:http
 * on purpose, without Express, authentication or validation: the floor is the engine alone, so
 * the transfer's excess over it includes the API's own cost.
 */
export function createFloorServer(deps: FloorServerDependencies): http.Server {
  return http.createServer((request, response) => {
    route(deps, request, response).catch((error: unknown) =>
      send(response, 500, { error: { code: 'floor_error', message: String((error as Error).message) } }),
    );
  });
}

async function route(
  deps: FloorServerDependencies,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://floor');
  if (request.method === 'GET' && url.pathname === '/readyz') return send(response, 200, { ready: true });
  const wait_s = Math.min(wait_max_s, Number(url.searchParams.get('wait') ?? '0') || 0);
  if (request.method === 'POST' && url.pathname === '/floor') {
    const floorId = await startFloor(deps, JSON.parse(await readBody(request)) as FloorBody);
    // As the wallet's POST with `?wait`: 200 with the status once final or when the wait ends.
    if (url.searchParams.has('wait'))
      return send(response, 200, { transfer_id: floorId, status: await statusOf(deps, floorId, wait_s) });
    return send(response, 202, { transfer_id: floorId, status: 'PENDING' });
  }
  const statusMatch = /^\/floor\/([A-Za-z0-9_-]{1,300})$/.exec(url.pathname);
  if (request.method === 'GET' && statusMatch)
    return send(response, 200, { transfer_id: statusMatch[1], status: await statusOf(deps, statusMatch[1]!, wait_s) });
  send(response, 404, { error: { code: 'route_not_found' } });
}

interface FloorBody {
  from_user_id: string;
  to_user_id: string;
  amount: number;
  currency: string;
  idempotency_key: string;
}

async function startFloor(deps: FloorServerDependencies, body: FloorBody): Promise<string> {
  const floorId = `floor_${body.idempotency_key}`;
  deps.completions.expect(floorId);
  try {
    // Everything a transfer's start carries (temporal-client/start-transfer.ts): id policies, the five
    // search attributes (their visibility cost) and a summary; eager start on this process's worker.
    await deps.client.workflow.start(floorWorkflow, {
      workflowId: floorId,
      taskQueue: deps.taskQueue,
      args: [
        {
          floorId,
          request: {
            fromUserId: body.from_user_id,
            toUserId: body.to_user_id,
            amountMinor: String(body.amount),
            currency: body.currency,
          },
        },
      ],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      requestEagerStart: true,
      typedSearchAttributes: [
        { key: TransferStatusKey, value: 'PENDING' },
        { key: FromUserKey, value: body.from_user_id },
        { key: ToUserKey, value: body.to_user_id },
        { key: AmountMinorKey, value: body.amount },
        { key: CurrencyKey, value: body.currency },
      ],
      staticSummary: `${body.from_user_id} -> ${body.to_user_id} ${body.amount} ${body.currency}`,
    });
  } catch (error) {
    deps.completions.forget(floorId);
    throw error;
  }
  return floorId;
}

async function statusOf(
  deps: FloorServerDependencies,
  floorId: string,
  wait_s: number,
): Promise<'COMPLETED' | 'PENDING'> {
  const heard = await deps.completions.wait(floorId, wait_s * 1000);
  if (heard === 'done') return 'COMPLETED';
  if (heard === 'pending') return 'PENDING';
  // Not started by this process (or forgotten): ask Temporal, for at most the wait.
  const waiting = AbortSignal.timeout(Math.max(1, wait_s * 1000));
  const handle = deps.client.workflow.getHandle(floorId);
  return deps.client
    .withAbortSignal(waiting, () => handle.result())
    .then(
      () => 'COMPLETED' as const,
      () => 'PENDING' as const,
    );
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size_bytes = 0;
    request.on('data', (chunk: Buffer) => {
      size_bytes += chunk.length;
      if (size_bytes > body_size_max_bytes) request.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

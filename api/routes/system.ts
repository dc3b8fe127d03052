import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { ShardSet } from '../../db/shards';
import { metrics_content_type, walletMetricsText } from '../../metrics/wallet-metrics';
import type { Metrics } from '../metrics';
import { openApiDocument } from '../openapi';

const readiness_timeout_ms = 2_000;

/** Health, readiness, metrics and the OpenAPI document: no authentication. */
export function systemRoutes(deps: { shards: ShardSet; client: Client; metrics: Metrics }): Router {
  const router = Router();
  const document = openApiDocument();

  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });

  router.get('/readyz', async (_request, response) => {
    const checks = await Promise.all([
      check('shards', () => deps.shards.ping()),
      check('temporal', () => deps.client.workflowService.getSystemInfo({}).then(() => undefined)),
    ]);
    const ready = checks.every((result) => result.ok);
    response.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      checks: Object.fromEntries(checks.map((result) => [result.name, result.ok ? 'ok' : result.error])),
    });
  });

  // The whole process's metrics: the API's, the worker's when it shares the process, and the Temporal SDK's.
  router.get('/metrics', async (_request, response) => {
    response.type(metrics_content_type).send(await walletMetricsText(deps.metrics.registry));
  });

  router.get('/openapi.json', (_request, response) => {
    response.json(document);
  });

  return router;
}

async function check(name: string, probe: () => Promise<void>): Promise<{ name: string; ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${readiness_timeout_ms} ms`)), readiness_timeout_ms);
  });
  try {
    await Promise.race([probe(), timeout]);
    return { name, ok: true };
  } catch (error) {
    return { name, ok: false, error: (error as Error).message.split('\n')[0] };
  } finally {
    clearTimeout(timer);
  }
}

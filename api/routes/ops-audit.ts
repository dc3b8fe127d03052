import { Router } from 'express';
import type { ShardSet } from '../../db/shards';
import { operatorIdentity } from '../../domain/operators';
import { auditOf, type AuditCursor, type AuditEntry } from '../../ledger/audit';
import { requireOps } from '../auth';
import { sendJson } from '../json';
import { AuditQuery } from '../schemas';
import { validate } from '../validate';

/** An operator as the audit records them (normalized); other text, such as (unverified), as given. */
function recordedAs(operator: string): string {
  const identity = operatorIdentity(operator);
  return identity.ok ? identity.operator : operator;
}

/**
 * The ops audit of every shard, merged newest first. Each shard answers one page after the
 * cursor; the merge keeps the newest `limit` rows, so no row is skipped or repeated across pages.
 */
export function opsAuditRoutes(shards: ShardSet): Router {
  const router = Router();

  router.get('/v1/ops/audit', async (request, response) => {
    requireOps(request);
    const query = validate(AuditQuery, request.query, 'query');
    const filter = {
      limit: query.limit + 1,
      ...(query.operator ? { operator: recordedAs(query.operator) } : {}),
      ...(query.action ? { action: query.action } : {}),
      ...(query.target ? { targetId: query.target } : {}),
      ...(query.cursor ? { before: parseCursor(query.cursor) } : {}),
    };
    const pages = await Promise.all(shards.pools.map((pool, shard) => auditOf(pool, shard, filter)));
    const merged = pages.flat().sort(newestFirst);
    const page = merged.slice(0, query.limit);
    sendJson(response, 200, {
      entries: page.map((entry) => ({
        occurred_at: entry.occurredAt.toISOString(),
        operator: entry.operator,
        action: entry.action,
        target_type: entry.targetType,
        target_id: entry.targetId,
        reason: entry.reason,
        via: entry.via,
        details: entry.details,
      })),
      next_cursor: merged.length > query.limit ? cursorOf(page.at(-1)!) : null,
    });
  });

  return router;
}

function newestFirst(a: AuditEntry, b: AuditEntry): number {
  if (a.occurredAtUs !== b.occurredAtUs) return a.occurredAtUs > b.occurredAtUs ? -1 : 1;
  if (a.shard !== b.shard) return b.shard - a.shard;
  return a.auditId > b.auditId ? -1 : a.auditId < b.auditId ? 1 : 0;
}

function cursorOf(entry: AuditEntry): string {
  return `${entry.occurredAtUs}_${entry.shard}_${entry.auditId}`;
}

function parseCursor(cursor: string): AuditCursor {
  const [occurredAtUs, shard, auditId] = cursor.split('_');
  return { occurredAtUs: BigInt(occurredAtUs!), shard: Number(shard), auditId: BigInt(auditId!) };
}

import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import type { AchFiles } from '../rails/ach/ach-files';
import { BankError } from './bank-errors';
import { readFaults, setFaults } from './faults';
import { incomingCreditOf, receiveIncomingCredit } from './incoming-credits';
import { bankJson, parseBankJson } from './json';
import type { BankIdentity } from './outgoing-files';
import { outgoing_page_size_max, pollOutgoingFiles } from './outgoing-poll';
import { statementOf } from './statement';
import { receiveFile } from './uploads';
import { fileStatusOf } from './file-status';

export interface BankHttpDeps {
  pool: pg.Pool;
  files: AchFiles;
  bank: BankIdentity;
  bankDayMs: number;
  token: string;
  log: (line: object) => void;
}

/** NACHA files of 10,000 payouts are about 2 MB; moov's own limit is 10 MiB. */
const file_bytes_max = '10mb';
const json_bytes_max = '16kb';

export function createBankApp(deps: BankHttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_request, response) => void response.json({ ok: true }));
  app.use(requireToken(deps.token));
  app.use('/admin', adminRoutes(deps));
  app.use(outageGate(deps.pool));
  app.post('/files', express.text({ type: () => true, limit: file_bytes_max }), (request, response, next) =>
    uploadFile(deps, request, response).catch(next),
  );
  app.get('/files/:fileId', (request, response, next) =>
    fileStatusOf(deps.pool, request.params.fileId)
      .then((status) => send(response, 200, status))
      .catch(next),
  );
  app.get('/outgoing-files', (request, response, next) => pollRoute(deps, request, response).catch(next));
  app.post(
    '/simulate/incoming-credit',
    express.text({ type: () => true, limit: json_bytes_max }),
    (request, response, next) => simulateCredit(deps, request, response).catch(next),
  );
  app.get('/incoming-credits/:traceNumber', (request, response, next) =>
    incomingCreditOf(deps.pool, request.params.traceNumber)
      .then((credit) => send(response, 200, credit))
      .catch(next),
  );
  app.get('/statements/:date', (request, response, next) => {
    const date = z.iso.date().safeParse(request.params.date);
    if (!date.success) return next(new BankError('invalid_request', 'the date is YYYY-MM-DD'));
    statementOf(deps.pool, date.data)
      .then((statement) => send(response, 200, statement))
      .catch(next);
  });
  app.use((_request: Request, _response: Response, next: NextFunction) =>
    next(new BankError('not_found', 'no such route')),
  );
  app.use(errorHandler(deps.log));
  return app;
}

function send(response: Response, status: number, body: unknown): void {
  response.status(status).type('application/json').send(bankJson(body));
}

function requireToken(token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return (request: Request, _response: Response, next: NextFunction) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return next(new BankError('unauthorized', 'send Authorization: Bearer <BANK_TOKEN>'));
    next();
  };
}

function outageGate(pool: pg.Pool) {
  return (_request: Request, response: Response, next: NextFunction) => {
    readFaults(pool)
      .then((faults) => {
        if (faults.outageUntil && faults.outageUntil > new Date()) {
          response.setHeader('retry-after', String(Math.ceil((faults.outageUntil.getTime() - Date.now()) / 1000)));
          return next(new BankError('bank_unavailable', 'the bank is down (an outage switched on at /admin/faults)'));
        }
        next();
      })
      .catch(next);
  };
}

async function uploadFile(deps: BankHttpDeps, request: Request, response: Response): Promise<void> {
  if (typeof request.body !== 'string' || request.body === '')
    throw new BankError('file_refused', 'send the NACHA file as the request body');
  const name = typeof request.query.name === 'string' ? request.query.name.slice(0, 200) : 'upload.ach';
  const answer = await receiveFile({ ...deps, bankRouting: deps.bank.routing }, name, request.body);
  deps.log({ msg: answer.duplicate ? 'file received again' : 'file received', fileId: answer.fileId, name });
  send(response, answer.duplicate ? 200 : 201, answer);
}

async function pollRoute(deps: BankHttpDeps, request: Request, response: Response): Promise<void> {
  const query = z
    .object({
      after: z
        .string()
        .regex(/^\d{1,18}$/)
        .default('0'),
      limit: z.coerce.number().int().min(1).max(outgoing_page_size_max).default(10),
    })
    .safeParse(request.query);
  if (!query.success) throw new BankError('invalid_request', `after is a cursor, limit 1 to ${outgoing_page_size_max}`);
  const page = await pollOutgoingFiles(
    deps.pool,
    BigInt(query.data.after),
    query.data.limit,
    await readFaults(deps.pool),
  );
  send(response, 200, page);
}

const creditRequest = z
  .object({ account_number: z.string(), amount_minor: z.bigint(), originator_name: z.string().max(200) })
  .strict();

async function simulateCredit(deps: BankHttpDeps, request: Request, response: Response): Promise<void> {
  const body = creditRequest.safeParse(parseBankJson(typeof request.body === 'string' ? request.body : ''));
  if (!body.success)
    throw new BankError(
      'invalid_request',
      'send {account_number, amount_minor (a whole number of cents), originator_name}',
    );
  const traceNumber = await receiveIncomingCredit(deps.pool, {
    accountNumber: body.data.account_number,
    amountMinor: body.data.amount_minor,
    originatorName: body.data.originator_name,
  });
  send(response, 201, { traceNumber });
}

const faultsRequest = z
  .object({
    outage_ms: z.bigint().min(0n).max(3_600_000n).optional(),
    duplicate_delivery: z.boolean().optional(),
    late_delivery_ms: z.bigint().min(0n).max(86_400_000n).optional(),
  })
  .strict();

function adminRoutes(deps: BankHttpDeps): express.Router {
  const router = express.Router();
  router.get('/faults', (_request, response, next) =>
    readFaults(deps.pool)
      .then((faults) => send(response, 200, faults))
      .catch(next),
  );
  router.post('/faults', express.text({ type: () => true, limit: json_bytes_max }), (request, response, next) => {
    const body = faultsRequest.safeParse(parseBankJson(typeof request.body === 'string' ? request.body : ''));
    if (!body.success)
      return next(new BankError('invalid_request', 'send {outage_ms?, duplicate_delivery?, late_delivery_ms?}'));
    const { outage_ms, duplicate_delivery, late_delivery_ms } = body.data;
    setFaults(deps.pool, {
      ...(outage_ms === undefined ? {} : { outageMs: Number(outage_ms) }),
      ...(duplicate_delivery === undefined ? {} : { duplicateDelivery: duplicate_delivery }),
      ...(late_delivery_ms === undefined ? {} : { lateDeliveryMs: Number(late_delivery_ms) }),
    })
      .then((faults) => {
        deps.log({ msg: 'faults set', ...faults });
        send(response, 200, faults);
      })
      .catch(next);
  });
  return router;
}

function errorHandler(log: (line: object) => void) {
  return (error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    const known = toBankError(error);
    if (known) return send(response, known.status, { error: known.code, message: known.message });
    log({ level: 'error', msg: 'bank request failed', error: String(error) });
    send(response, 500, { error: 'internal', message: 'the bank failed; the request may be retried' });
  };
}

/** Express's own refusals (a body too large, unreadable) carry a status; they are the client's, not ours. */
function toBankError(error: unknown): BankError | undefined {
  if (error instanceof BankError) return error;
  const status = (error as { status?: unknown; type?: unknown } | null)?.status;
  if (status === 413) return new BankError('payload_too_large', `the body is larger than ${file_bytes_max}`);
  if (status === 415) return new BankError('unsupported_media_type', 'the body is not in a readable encoding');
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new BankError('invalid_request', 'the request is not readable');
  return undefined;
}

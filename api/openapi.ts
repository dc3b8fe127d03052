import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  BalanceResponse,
  CreateUserBody,
  ErrorResponse,
  HistoryQuery,
  HistoryResponse,
  MoneyMovementBody,
  TransferAccepted,
  TransferBody,
  TransferIdParams,
  TransferResponse,
  UserIdParams,
  UserResponse,
  WaitQuery,
} from './schemas';
import { OpsTransferList, OpsTransfersQuery } from './schemas';
import { BalanceQuery } from './schemas';
import {
  AuditQuery,
  AuditResponse,
  OpsReasonBody,
  OptionalOpsReasonBody,
  ReverseBody,
  UserCurrencyParams,
  WalletLimitsBody,
  WalletLimitsResponse,
} from './schemas';
import { ReconciliationResponse } from './schemas';
import { QuoteBody, QuoteResponse, RatePairParams, RateResponse, SetRateBody } from './schemas';
import { error_codes } from './errors';

/** Built from the same zod schemas the routes validate with. */
export function openApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
  const errors = {
    description: `error; code is one of ${Object.keys(error_codes).join(', ')}`,
    ...json(ErrorResponse),
  };
  const route = (config: Omit<RouteConfig, 'responses'> & { ok: RouteConfig['responses'] }) => {
    const { ok, ...rest } = config;
    registry.registerPath({ ...rest, security: [{ bearer: [] }], responses: { ...ok, '4XX': errors } });
  };
  const startsTransfer = {
    '202': { description: 'accepted; poll GET /v1/wallet/transfers/{transfer_id}', ...json(TransferAccepted) },
    '200': { description: 'with ?wait=N: the transfer as it stands after waiting', ...json(TransferResponse) },
  };

  route({
    method: 'post',
    path: '/v1/wallet/users',
    request: { body: json(CreateUserBody) },
    ok: { '201': { description: 'created', ...json(UserResponse) } },
  });
  route({
    method: 'post',
    path: '/v1/wallet/transfers',
    request: { query: WaitQuery, body: json(TransferBody) },
    ok: startsTransfer,
  });
  route({
    method: 'post',
    path: '/v1/wallet/{user_id}/deposits',
    request: { params: UserIdParams, query: WaitQuery, body: json(MoneyMovementBody) },
    ok: startsTransfer,
  });
  route({
    method: 'post',
    path: '/v1/wallet/{user_id}/withdrawals',
    request: { params: UserIdParams, query: WaitQuery, body: json(MoneyMovementBody) },
    ok: startsTransfer,
  });
  route({
    method: 'get',
    path: '/v1/wallet/transfers/{transfer_id}',
    request: { params: TransferIdParams, query: WaitQuery },
    ok: {
      '200': {
        description: 'the transfer; with ?wait=N once it is final or N seconds passed',
        ...json(TransferResponse),
      },
    },
  });
  route({
    method: 'get',
    path: '/v1/wallet/{user_id}/balance',
    request: { params: UserIdParams, query: BalanceQuery },
    ok: { '200': { description: 'balances per currency', ...json(BalanceResponse) } },
  });
  route({
    method: 'get',
    path: '/v1/wallet/{user_id}/transactions',
    request: { params: UserIdParams, query: HistoryQuery },
    ok: { '200': { description: 'ledger entries, newest first', ...json(HistoryResponse) } },
  });
  for (const action of ['freeze', 'unfreeze']) {
    route({
      method: 'post',
      path: `/v1/ops/users/{user_id}/${action}`,
      request: { params: UserIdParams, body: json(OptionalOpsReasonBody) },
      ok: { '200': { description: `${action} done; audited` } },
    });
  }
  route({
    method: 'post',
    path: '/v1/ops/users/{user_id}/close',
    request: { params: UserIdParams, body: json(OpsReasonBody) },
    ok: { '200': { description: 'closed (only at zero balance); audited' } },
  });
  route({
    method: 'get',
    path: '/v1/ops/users/{user_id}/limits/{currency}',
    request: { params: UserCurrencyParams },
    ok: { '200': { description: "the wallet's rules", ...json(WalletLimitsResponse) } },
  });
  route({
    method: 'put',
    path: '/v1/ops/users/{user_id}/limits/{currency}',
    request: { params: UserCurrencyParams, body: json(WalletLimitsBody) },
    ok: { '200': { description: "the wallet's rules after the change; audited", ...json(WalletLimitsResponse) } },
  });
  route({
    method: 'post',
    path: '/v1/ops/transfers/{transfer_id}/reverse',
    request: { params: TransferIdParams, body: json(ReverseBody) },
    ok: {
      '200': { description: 'reversed (or already was): the transfer, status REVERSED', ...json(TransferResponse) },
    },
  });
  for (const decision of ['approve', 'reject']) {
    route({
      method: 'post',
      path: `/v1/ops/transfers/{transfer_id}/${decision}`,
      request: { params: TransferIdParams, body: json(OpsReasonBody) },
      ok: {
        '200': {
          description: `${decision}d: the transfer with review {approvals, approvals_required}`,
          ...json(TransferResponse),
        },
      },
    });
  }
  route({
    method: 'post',
    path: '/v1/wallet/fx/quotes',
    request: { body: json(QuoteBody) },
    ok: {
      '201': {
        description: "a rate locked for the caller's next conversion of this amount, until expires_at",
        ...json(QuoteResponse),
      },
    },
  });
  route({
    method: 'put',
    path: '/v1/ops/fx/rates/{base}/{quote}',
    request: { params: RatePairParams, body: json(SetRateBody) },
    ok: { '200': { description: 'the new current rate (ops only); audited', ...json(RateResponse) } },
  });
  route({
    method: 'get',
    path: '/v1/ops/fx/rates',
    ok: {
      '200': {
        description: 'the current rate of every pair (ops only)',
        ...json(z.object({ rates: z.array(RateResponse) })),
      },
    },
  });
  route({
    method: 'get',
    path: '/v1/ops/fx/rates/{base}/{quote}',
    request: { params: RatePairParams },
    ok: {
      '200': {
        description: "the pair's current rate and its history, newest first (ops only)",
        ...json(RateResponse.extend({ history: z.array(RateResponse) })),
      },
    },
  });
  route({
    method: 'get',
    path: '/v1/ops/audit',
    request: { query: AuditQuery },
    ok: { '200': { description: 'every ops action, newest first', ...json(AuditResponse) } },
  });
  route({
    method: 'get',
    path: '/v1/ops/transfers',
    request: { query: OpsTransfersQuery },
    ok: {
      '200': {
        description: 'transfers by status, or stuck ones, from Temporal visibility (ops only)',
        ...json(OpsTransferList),
      },
    },
  });
  route({
    method: 'get',
    path: '/v1/ops/reconciliation',
    ok: {
      '200': {
        description: 'the latest reconciliation run (ops only); 404 reconciliation_not_run before the first',
        ...json(ReconciliationResponse),
      },
    },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Wallet API',
      version: '1.0.0',
      description: 'Amounts are JSON integers of minor units; errors are {"error":{"code","message"}}.',
    },
  });
}

import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { error_codes, type ErrorCode } from './errors';
import {
  ActionTokenBody,
  ActionTokenResponse,
  BankAccountBody,
  BankAccountListResponse,
  BankAccountParams,
  BankAccountResponse,
  FundingInstructionsResponse,
  PayinFilesQuery,
  PayinFilesResponse,
  PayinParams,
  PayinResponse,
  AuditQuery,
  AuditResponse,
  BalanceQuery,
  BatchIdParams,
  BatchQuery,
  BalanceResponse,
  CodecPayloads,
  CreateUserBody,
  errorBody,
  HealthResponse,
  HistoryQuery,
  HistoryResponse,
  MoneyMovementBody,
  OpsReasonBody,
  RetriedTransferResponse,
  OpsTransferList,
  OpsTransfersQuery,
  OptionalOpsReasonBody,
  QuoteBody,
  QuoteResponse,
  RateHistoryResponse,
  RateListResponse,
  RatePairParams,
  RateResponse,
  ReadinessResponse,
  ReconciliationResponse,
  SettlementDateParams,
  SettlementRunResponse,
  SettlementRunStarted,
  ReverseBody,
  ReviewedTransferResponse,
  SetRateBody,
  TransferAccepted,
  TransferBatchAccepted,
  TransferBatchBody,
  TransferBatchResponse,
  TransferBody,
  TransferIdParams,
  TransferResponse,
  UserClosedResponse,
  UserCurrencyParams,
  UserFrozenResponse,
  UserIdParams,
  LastEventIdHeader,
  UserResponse,
  WaitQuery,
  WalletLimitsBody,
  WalletLimitsResponse,
} from './schemas';
import {
  OpsPayoutList,
  OpsPayoutsQuery,
  PayoutBody,
  PayoutIdParams,
  PayoutResponse,
  PayoutWaitQuery,
} from './payout-schemas';
import { WalletEventSchema } from './event-schemas';
import { registerWebhookPaths } from './webhook-openapi';

type Responses = RouteConfig['responses'];
/** Registers an operation behind the bearer token; `ok` are its success answers, the error answers are added. */
type Route = (config: Omit<RouteConfig, 'responses' | 'security'> & { ok: Responses }) => void;

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
/** A route's one success answer: its status, what it means, and its JSON body. */
const answers = (status: '200' | '201' | '202', description: string, schema: z.ZodType): Responses => ({
  [status]: { description, ...json(schema) },
});

/** The per-caller rate limit (api/caller-limits.ts, IETF draft 7) sets these on every answer after authentication. */
const rate_limit_headers = {
  RateLimit: {
    description:
      "the caller's window: limit, remaining and reset (seconds), such as `limit=300, remaining=299, reset=60`",
    required: false,
    schema: { type: 'string' as const },
  },
  'RateLimit-Policy': {
    description: 'the limit and its window in seconds, such as `300;w=60`',
    required: false,
    schema: { type: 'string' as const },
  },
};

function retryAfter(required: boolean, description: string) {
  return { 'Retry-After': { description, required, schema: { type: 'integer' as const, minimum: 1 } } };
}

function errorHeaders(status: number) {
  if (status === 429) return { ...rate_limit_headers, ...retryAfter(true, 'seconds until the window resets') };
  if (status === 503)
    return {
      ...rate_limit_headers,
      ...retryAfter(
        false,
        "with overloaded: seconds to wait before retrying (with the same idempotency key); when admission refused a transfer, the estimated queueing delay's excess over the request's target (ADMISSION_TARGET, or its ?wait), 1 to 60",
      ),
    };
  return rate_limit_headers;
}

/**
 * One response per error status, derived from error_codes: its body's code is one of the codes of
 * that status, so a code the list lacks, or one sent with another status, breaks the contract.
 */
function errorResponses(): Record<string, ResponseConfig> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const [code, status] of Object.entries(error_codes) as [ErrorCode, number][]) {
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      String(status),
      {
        description: `error: ${codes.join(', ')}`,
        headers: errorHeaders(status),
        ...json(errorBody(codes as [ErrorCode, ...ErrorCode[]]).openapi(`Error${status}`)),
      },
    ]),
  );
}

/** Built from the same zod schemas the routes validate with. */
export function openApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const errors = errorResponses();
  const route: Route = ({ ok, ...rest }) => {
    const answers = Object.fromEntries(
      Object.entries(ok).map(([status, answer]) => [status, { ...answer, headers: rate_limit_headers }]),
    );
    registry.registerPath({ ...rest, security: [{ bearer: [] }], responses: { ...answers, ...errors } });
  };
  registerWalletPaths(route);
  registerBatchPaths(route);
  registerBankAccountPaths(route);
  registerPayinPaths(route);
  registerPayoutPaths(route);
  registerWebhookPaths(route);
  registerOpsUserPaths(route);
  registerOpsTransferPaths(route);
  registerOpsSettlementPaths(route);
  registerFxPaths(route);
  registerCodecPaths(route, registry);
  registerSystemPaths(registry, errors);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Wallet API',
      version: '1.0.0',
      description: 'Amounts are JSON integers of minor units; errors are {"error":{"code","message"}}.',
    },
  });
}

function registerWalletPaths(route: Route): void {
  /** Admission by queueing delay (api/shard-admission.ts), described once for every route that starts a transfer. */
  const admission =
    "Admitted while the transfers already in flight on the shards it touches (the payer's and the recipient's) can finish within ADMISSION_TARGET (2 minutes by default), or within N seconds with ?wait=N, as estimated from each shard's measured completions; past that, 503 overloaded with Retry-After, and nothing is recorded.";
  const startsTransfer = {
    '202': { description: 'accepted; poll GET /v1/wallet/transfers/{transfer_id}', ...json(TransferAccepted) },
    '200': { description: 'with ?wait=N: the transfer as it stands after waiting', ...json(TransferResponse) },
  };
  route({
    method: 'post',
    path: '/v1/wallet/users',
    request: { body: json(CreateUserBody) },
    ok: answers('201', 'created', UserResponse),
  });
  route({
    method: 'post',
    path: '/v1/wallet/transfers',
    description: admission,
    request: { query: WaitQuery, body: json(TransferBody) },
    ok: startsTransfer,
  });
  for (const movement of ['deposits', 'withdrawals']) {
    route({
      method: 'post',
      path: `/v1/wallet/{user_id}/${movement}`,
      description: admission,
      request: { params: UserIdParams, query: WaitQuery, body: json(MoneyMovementBody) },
      ok: startsTransfer,
    });
  }
  route({
    method: 'get',
    path: '/v1/wallet/transfers/{transfer_id}',
    request: { params: TransferIdParams, query: WaitQuery },
    ok: answers('200', 'the transfer; with ?wait=N once it is final or N seconds passed', TransferResponse),
  });
  route({
    method: 'get',
    path: '/v1/wallet/{user_id}/balance',
    request: { params: UserIdParams, query: BalanceQuery },
    ok: answers('200', 'balances per currency', BalanceResponse),
  });
  route({
    method: 'get',
    path: '/v1/wallet/{user_id}/events',
    description:
      "The wallet's events as Server-Sent Events (text/event-stream), authorized as its balance is: each event is `id: <sequence>`, `event: <type>`, `data: <WalletEvent JSON>`. Without Last-Event-ID the feed starts at the wallet's first event; with it, after that sequence number. A reconnect loses nothing. A quiet feed sends a comment every 15 s and ends after 5 minutes (reconnect with Last-Event-ID). 400 invalid_last_event_id: not a sequence number, or past the wallet's last event; 429 rate_limited: too many feeds open.",
    request: { params: UserIdParams, headers: LastEventIdHeader },
    ok: { '200': { description: 'the event stream', content: { 'text/event-stream': { schema: WalletEventSchema } } } },
  });
  route({
    method: 'get',
    path: '/v1/wallet/{user_id}/transactions',
    request: { params: UserIdParams, query: HistoryQuery },
    ok: answers('200', 'ledger entries, newest first', HistoryResponse),
  });
}

function registerPayoutPaths(route: Route): void {
  route({
    method: 'post',
    path: '/v1/wallet/{user_id}/payouts',
    description:
      'Money out to one of the wallet\'s bank accounts (docs/rails.md, "The payout lifecycle"). The amount is held at once; a payout the balance does not cover ends FAILED insufficient_funds, as a transfer does. The same idempotency_key with the same body answers the same payout.',
    request: { params: UserIdParams, body: json(PayoutBody) },
    ok: answers('202', 'accepted; follow GET /v1/wallet/payouts/{payout_id}', PayoutResponse),
  });
  route({
    method: 'get',
    path: '/v1/wallet/payouts/{payout_id}',
    request: { params: PayoutIdParams, query: PayoutWaitQuery },
    ok: answers('200', 'the payout; with ?wait=N once it is SETTLED or final, or N seconds passed', PayoutResponse),
  });
  for (const [action, description] of [
    ['cancel', 'ops only: cancels a payout no cutoff has taken yet (its hold goes back); audited as payout_cancel.'],
    [
      'approve',
      'ops only: approves a payout held for review (two different operators at FOUR_EYES_THRESHOLD_MINOR); audited.',
    ],
    ['reject', 'ops only: rejects a payout held for review: it ends FAILED review_rejected, nothing held; audited.'],
  ] as const) {
    route({
      method: 'post',
      path: `/v1/ops/payouts/{payout_id}/${action}`,
      description,
      request: { params: PayoutIdParams, body: json(OpsReasonBody) },
      ok: answers('200', 'the payout after the decision', PayoutResponse),
    });
  }
  route({
    method: 'get',
    path: '/v1/ops/payouts',
    description: 'ops only: payouts stuck before a final state past PAYOUT_STUCK_AFTER, oldest change first.',
    request: { query: OpsPayoutsQuery },
    ok: answers('200', 'the stuck payouts', OpsPayoutList),
  });
}

function registerBankAccountPaths(route: Route): void {
  route({
    method: 'post',
    path: '/v1/wallet/{user_id}/bank-accounts',
    description:
      "Registers an external bank account for payouts: rail ach, currency USD. The routing number's ABA check digit is checked (422 invalid_routing_number), the account number must be 4 to 17 digits (422 invalid_account_number); nothing is stored then. The same routing and account number registered again while live answers the existing account (200, unchanged). At most 20 live accounts per wallet (409 bank_account_limit_reached). By the owner or ops; an operator's registration is audited.",
    request: { params: UserIdParams, body: json(BankAccountBody) },
    ok: {
      '201': { description: 'registered', ...json(BankAccountResponse) },
      '200': { description: 'already registered: the existing account, unchanged', ...json(BankAccountResponse) },
    },
  });
  route({
    method: 'get',
    path: '/v1/wallet/{user_id}/bank-accounts',
    request: { params: UserIdParams },
    ok: { '200': { description: 'the live bank accounts, masked', ...json(BankAccountListResponse) } },
  });
  route({
    method: 'delete',
    path: '/v1/wallet/{user_id}/bank-accounts/{bank_account_id}',
    description:
      "Removes the account from use: new payouts to it are refused (404 bank_account_not_found); the row stays for the payouts that went to it. Removing it again answers it as it is. By the owner or ops; an operator's removal is audited.",
    request: { params: BankAccountParams },
    ok: { '200': { description: 'removed (deleted_at is set)', ...json(BankAccountResponse) } },
  });
}

function registerPayinPaths(route: Route): void {
  route({
    method: 'get',
    path: '/v1/wallet/{user_id}/funding-instructions',
    description:
      "Where to send money to this wallet: its virtual account at our bank (allocated on the first read, the same ever after). An ACH credit to it becomes a deposit once the bank's file arrives; one to a closed wallet is returned R02. By the owner or ops; 409 wallet_closed for a closed wallet.",
    request: { params: UserIdParams },
    ok: { '200': { description: 'the funding instructions', ...json(FundingInstructionsResponse) } },
  });
  route({
    method: 'get',
    path: '/v1/wallet/payins/{trace_number}',
    description:
      'A credit the bank sent, by its ACH trace number: credited to a wallet, or returned (R02, R03). Its owner or ops; 404 payin_not_found for anyone else.',
    request: { params: PayinParams },
    ok: { '200': { description: 'the pay-in', ...json(PayinResponse) } },
  });
  route({
    method: 'get',
    path: '/v1/ops/payins/files',
    description:
      'The bank files the pay-in poller finished, newest first: what each credited, returned, found twice or in conflict, and why the rail refused a file. Ops only.',
    request: { query: PayinFilesQuery },
    ok: { '200': { description: 'the files', ...json(PayinFilesResponse) } },
  });
}

function registerBatchPaths(route: Route): void {
  route({
    method: 'post',
    path: '/v1/wallet/transfer-batches',
    description:
      "Up to 1,000 transfers from one payer, each an ordinary transfer keyed by its own idempotency_key. Refused whole, with nothing moved, when the batch is empty or too long (400), two items share a key (400), an item is invalid (400), pays the payer (422 same_user) or an unknown user (404 user_not_found), an item key names another transfer or the batch key another batch (422 idempotency_key_reused), or the total of its new items passes what is left of the payer's 24-hour outgoing limit (422 limit_exceeded). A retry with the same key and body answers the same batch.",
    request: { body: json(TransferBatchBody) },
    ok: answers('202', 'accepted; follow GET /v1/wallet/transfer-batches/{batch_id}', TransferBatchAccepted),
  });
  route({
    method: 'get',
    path: '/v1/wallet/transfer-batches/{batch_id}',
    request: { params: BatchIdParams, query: BatchQuery },
    ok: answers(
      '200',
      'the batch: counts by status and a page of items; with ?wait=N once every item is final or N seconds passed',
      TransferBatchResponse,
    ),
  });
}

function registerOpsUserPaths(route: Route): void {
  for (const action of ['freeze', 'unfreeze']) {
    route({
      method: 'post',
      path: `/v1/ops/users/{user_id}/${action}`,
      request: { params: UserIdParams, body: json(OptionalOpsReasonBody) },
      ok: answers('200', `${action} done; audited`, UserFrozenResponse),
    });
  }
  route({
    method: 'post',
    path: '/v1/ops/users/{user_id}/close',
    request: { params: UserIdParams, body: json(OpsReasonBody) },
    ok: answers(
      '200',
      'closed (only at zero balance, with no transfer of its own in flight and no reversal window open into or out of it); audited',
      UserClosedResponse,
    ),
  });
  route({
    method: 'get',
    path: '/v1/ops/users/{user_id}/limits/{currency}',
    request: { params: UserCurrencyParams },
    ok: answers('200', "the wallet's rules", WalletLimitsResponse),
  });
  route({
    method: 'put',
    path: '/v1/ops/users/{user_id}/limits/{currency}',
    request: { params: UserCurrencyParams, body: json(WalletLimitsBody) },
    ok: answers('200', "the wallet's rules after the change; audited", WalletLimitsResponse),
  });
  route({
    method: 'get',
    path: '/v1/ops/audit',
    request: { query: AuditQuery },
    ok: answers('200', 'every ops action, newest first', AuditResponse),
  });
}

function registerOpsTransferPaths(route: Route): void {
  route({
    method: 'post',
    path: '/v1/ops/transfers/{transfer_id}/reverse',
    request: { params: TransferIdParams, body: json(ReverseBody) },
    ok: answers('200', 'reversed (or already was): the transfer, status REVERSED', TransferResponse),
  });
  for (const decision of ['approve', 'reject']) {
    route({
      method: 'post',
      path: `/v1/ops/transfers/{transfer_id}/${decision}`,
      request: { params: TransferIdParams, body: json(OpsReasonBody) },
      ok: answers('200', `${decision}d: the transfer and its review`, ReviewedTransferResponse),
    });
  }
  route({
    method: 'post',
    path: '/v1/ops/transfers/{transfer_id}/action-tokens',
    request: { params: TransferIdParams, body: json(ActionTokenBody) },
    ok: answers(
      '201',
      "an action token for the caller: the proof a signal (Web UI, CLI) carries in its input's token field",
      ActionTokenResponse,
    ),
  });
  route({
    method: 'post',
    path: '/v1/ops/transfers/{transfer_id}/retry',
    request: { params: TransferIdParams, body: json(OpsReasonBody) },
    ok: answers(
      '200',
      'the failed step ran again (the transfer was NEEDS_ATTENTION); audited',
      RetriedTransferResponse,
    ),
  });
  route({
    method: 'get',
    path: '/v1/ops/transfers',
    request: { query: OpsTransfersQuery },
    ok: answers('200', 'transfers by status, or stuck ones, from Temporal visibility (ops only)', OpsTransferList),
  });
  route({
    method: 'get',
    path: '/v1/ops/reconciliation',
    ok: answers(
      '200',
      'the latest reconciliation run (ops only); 404 reconciliation_not_run before the first',
      ReconciliationResponse,
    ),
  });
}

function registerOpsSettlementPaths(route: Route): void {
  route({
    method: 'get',
    path: '/v1/ops/settlement/{date}',
    request: { params: SettlementDateParams },
    ok: answers(
      '200',
      "the latest settlement reconciliation of the day (ops only): the bank's statement against the ledger, line by line; 404 settlement_not_reconciled before the first",
      SettlementRunResponse,
    ),
  });
  route({
    method: 'post',
    path: '/v1/ops/settlement/{date}',
    request: { params: SettlementDateParams },
    ok: {
      ...answers(
        '200',
        'runs a settlement reconciliation of the day now and answers its report (ops only)',
        SettlementRunResponse,
      ),
      ...answers('202', 'the run took longer than a minute: read its report later with GET', SettlementRunStarted),
    },
  });
}

function registerFxPaths(route: Route): void {
  route({
    method: 'post',
    path: '/v1/wallet/fx/quotes',
    request: { body: json(QuoteBody) },
    ok: answers(
      '201',
      "a rate locked for the caller's next conversion of this amount, until expires_at",
      QuoteResponse,
    ),
  });
  route({
    method: 'put',
    path: '/v1/ops/fx/rates/{base}/{quote}',
    request: { params: RatePairParams, body: json(SetRateBody) },
    ok: answers('200', 'the new current rate (ops only); audited', RateResponse),
  });
  route({
    method: 'get',
    path: '/v1/ops/fx/rates',
    ok: answers('200', 'the current rate of every pair (ops only)', RateListResponse),
  });
  route({
    method: 'get',
    path: '/v1/ops/fx/rates/{base}/{quote}',
    request: { params: RatePairParams },
    ok: answers('200', "the pair's current rate and its history, newest first (ops only)", RateHistoryResponse),
  });
}

/** Served before authentication and the rate limit: no token, no RateLimit headers. */
function registerSystemPaths(registry: OpenAPIRegistry, errors: Record<string, ResponseConfig>): void {
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    responses: { '200': { description: 'the process is up', ...json(HealthResponse) } },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    responses: {
      '200': { description: 'every shard and Temporal answered', ...json(ReadinessResponse) },
      '503': { description: 'a shard or Temporal did not answer within 2 s', ...json(ReadinessResponse) },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    responses: {
      '200': {
        description: "Prometheus text format: the API's, the worker's and the Temporal SDK's series",
        content: { 'text/plain': { schema: z.string() } },
      },
      '503': errors['503']!,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    responses: { '200': { description: 'this document', ...json(z.record(z.string(), z.unknown())) } },
  });
}

/**
 * Temporal's codec server protocol for the Web UI and the CLI (api/routes/codec.ts): ops only,
 * by Bearer token or the session cookie of GET /codec/login.
 */
function registerCodecPaths(route: Route, registry: OpenAPIRegistry): void {
  for (const direction of ['encode', 'decode'] as const) {
    route({
      method: 'post',
      path: `/codec/${direction}`,
      description: `${direction === 'encode' ? 'Encrypts' : 'Decrypts'} Temporal payloads with the wallet's keys (ops only; a Bearer token or the codec session cookie)`,
      request: { body: json(CodecPayloads) },
      ok: answers('200', `the payloads, ${direction}d, in the same order`, CodecPayloads),
    });
  }
  route({
    method: 'post',
    path: '/codec/session',
    description:
      'Signs an operator in to the codec endpoint: the ops token (Bearer, or the form field `token`) is kept in an HttpOnly, SameSite=Strict cookie scoped to /codec',
    ok: { '200': { description: 'signed in: a short HTML page', content: { 'text/html': { schema: z.string() } } } },
  });
  registry.registerPath({
    method: 'get',
    path: '/codec/login',
    responses: {
      '200': {
        description: 'the sign-in form of the codec endpoint (HTML)',
        content: { 'text/html': { schema: z.string() } },
      },
    },
  });
}

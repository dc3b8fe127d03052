import { z } from 'zod';
import { isKnownCurrency, wallet_currencies_default, walletCurrencies } from '../domain/money';
import { isAbaRoutingNumber } from '../domain/bank-accounts';
import type { TransferLimits } from '../domain/transfer-policy';

/**
 * The one place that reads the environment. It is read once, validated, and a bad
 * value stops the process with a single line naming the variable, never a stack trace.
 */

const DEV_AUTH_SECRET = 'dev-only-wallet-secret-change-me-0123456789';
/**
 * The development payload key (README, "Payload encryption"). It is public, like
 * DEV_AUTH_SECRET, so it is only accepted while everything stays on this machine: a fixed key
 * rather than one generated per checkout, because every process of a run (the wallet, the
 * worker, the bench's and chaos's wallets, the tests, the recorded replay fixtures) must read
 * what the others wrote, with no file to share between them.
 */
const DEV_PAYLOAD_KEYS = 'dev-1:ZGV2LW9ubHktd2FsbGV0LXBheWxvYWQta2V5LTAxMjM=';

/**
 * Our bank's development token (the bank process's BANK_TOKEN default, config/bank.ts): public,
 * so the wallet refuses it for a bank that is not on this machine.
 */
export const DEV_BANK_TOKEN = 'dev-only-bank-token-change-me-0123456789';

/** TEMPORAL_TASK_QUEUE's default; the Schedules of a wallet on it keep their plain ids (workers/interval-schedule.ts). */
export const wallet_task_queue_default = 'wallet-transfers';

const port = z.coerce.number().int().min(1).max(65535);
/** A nine-digit ABA routing number whose check digit holds (the wallet's and the bank's BANK_ROUTING). */
export const routingNumber = z
  .string()
  .regex(/^\d{9}$/, 'must be nine digits')
  .refine(isAbaRoutingNumber, 'fails the ABA routing number checksum');
const positiveMs = z.coerce.number().int().min(1).max(86_400_000);

/** A duration such as 250ms, 30s, 5m, 12h or 7d, in milliseconds. */
export const duration_units_ms = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const duration = z
  .string()
  .regex(/^\d{1,9}(ms|s|m|h|d)$/, 'must be a duration such as 30s, 5m, 12h or 7d')
  .transform((value) => {
    const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(value)!;
    return Number(amount) * duration_units_ms[unit as keyof typeof duration_units_ms];
  })
  .refine((ms) => ms <= 365 * duration_units_ms.d, 'must be at most a year');

/** An amount in minor units, as digits (read as bigint: never a float). */
const minorUnits = z
  .string()
  .regex(/^[1-9]\d{0,17}$/, 'must be a positive whole number of minor units')
  .transform((value) => BigInt(value));

/** A comma-separated list of ISO 4217 codes with a minor unit, such as USD,EUR,JPY. */
const currencyList = z
  .string()
  .transform((value) => value.split(',').map((code) => code.trim()))
  .refine((codes) => codes.every(isKnownCurrency), {
    error: (issue) =>
      `must list ISO 4217 currencies with a minor unit, comma-separated; not: ${(issue.input as string[]).filter((code) => !isKnownCurrency(code)).join(', ')}`,
  });

/**
 * PAYLOAD_KEYS: comma-separated `id:base64key` entries, newest first. The newest encrypts new
 * payloads; every listed key still decrypts, so a rotation adds a key in front and drops an old
 * one only once no open workflow holds payloads under it.
 */
const payloadKeyList = z.string().transform((list, context) => {
  const keys = list.split(',').map((entry) => {
    const [id = '', material = ''] = entry.trim().split(':');
    return { id, key: Buffer.from(material, 'base64'), material };
  });
  for (const { id, key, material } of keys) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id) || !/^[A-Za-z0-9+/]+={0,2}$/.test(material) || key.length !== 32)
      context.addIssue({
        code: 'custom',
        message: `each entry must be id:base64 of 32 bytes (id: letters, digits, _ . -); not "${id}:…"`,
      });
  }
  if (new Set(keys.map(({ id }) => id)).size !== keys.length)
    context.addIssue({ code: 'custom', message: 'lists the same key id twice' });
  return keys.map(({ id, key }) => ({ id, key: new Uint8Array(key) }));
});

const postgresUrl = z.string().refine((value) => /^postgres(ql)?:\/\/[^\s/]+\/[A-Za-z0-9_]+(\?\S*)?$/.test(value), {
  message: 'must look like postgres://user@host:port/database',
});

const environmentSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(wallet_task_queue_default),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  /**
   * Mutual TLS to a Temporal frontend (`npm run temporal:cluster`, a production cluster): PEM files
   * of the CA that signed the server's certificate, and of this process's client certificate and
   * key. The names are the Temporal CLI's and the Web UI server's, so one set of settings serves all.
   */
  TEMPORAL_TLS_CA: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  /** The name the server's certificate is checked against, when not the host of TEMPORAL_ADDRESS. */
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  /** A Temporal Cloud API key, sent as a bearer token over TLS (instead of a client certificate). */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  /** Comma-separated list; when set it replaces the SHARD_COUNT local databases. */
  SHARD_URLS: z.string().min(1).optional(),
  SHARD_COUNT: z.coerce.number().int().min(1).max(64).default(4),
  /** Server that holds the default shard databases (created on start when missing). */
  PG_URL: postgresUrl.default('postgres://postgres@127.0.0.1:5432/postgres'),
  SHARD_DATABASE_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,40}$/, 'lower-case letters, digits and _ only')
    .default('wallet_shard_'),
  SHARD_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEV_AUTH_SECRET),
  /** AES-256-GCM keys of the Temporal payload codec, `id:base64key`, newest first. */
  PAYLOAD_KEYS: z.string().default(DEV_PAYLOAD_KEYS),
  /** Browser origins (the Temporal Web UI) allowed to call the codec endpoint; comma-separated. Default: the dev server's UI. */
  CODEC_CORS_ORIGINS: z.string().optional(),
  /** A token is refused this long after its iat, whatever its exp says (exp and iat are required). */
  TOKEN_MAX_AGE: duration.default(24 * duration_units_ms.h),
  /** Signs the operators' action tokens (signals and updates to a transfer); unset: a key derived from AUTH_SECRET. */
  ACTION_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** How long an action token is valid; it is also refused once older than this, whatever its exp says. */
  ACTION_TOKEN_TTL: duration
    .refine((ms) => ms >= duration_units_ms.s && ms <= duration_units_ms.h, 'must be between 1s and 1h')
    .default(10 * duration_units_ms.m),
  /** Requests one customer may make per RATE_LIMIT_WINDOW to one API process; more answer 429 rate_limited. */
  RATE_LIMIT_CUSTOMER: z.coerce.number().int().min(1).max(1_000_000).default(300),
  /** The same for an ops caller (consoles and batch jobs). */
  RATE_LIMIT_OPS: z.coerce.number().int().min(1).max(10_000_000).default(30_000),
  RATE_LIMIT_WINDOW: duration.default(duration_units_ms.m),
  /** `?wait` requests one caller may hold open at once; more answer at once, as a wait that timed out. */
  WAITS_PER_CALLER_MAX: z.coerce.number().int().min(0).max(10_000).default(8),
  /** `?wait` requests one API process holds open at once, all callers together. */
  WAITS_MAX: z.coerce.number().int().min(0).max(100_000).default(1_000),
  ACTIVITY_TIMEOUT_MS: positiveMs.default(10_000),
  DEBIT_ATTEMPTS_MAX: z.coerce.number().int().min(1).max(1000).default(12),
  /** How long a debit waits out a busy shard (a hot payer's row lock, a full pool) before the transfer fails; such waits spend no attempts. */
  DEBIT_BUSY_WAIT_MAX: duration.refine((ms) => ms > 0, 'must be more than 0').default(2 * duration_units_ms.m),
  RETRY_INTERVAL_MAX_MS: positiveMs.default(30_000),
  /**
   * A transfer is refused (503 overloaded) when the work already queued on a shard it touches
   * would take longer than this to finish (a `?wait` request: longer than its wait).
   */
  ADMISSION_TARGET: duration.refine((ms) => ms > 0, 'must be more than 0').default(2 * duration_units_ms.m),
  /**
   * Transfers a wallet process (API + worker) runs at once before it defers the start of new
   * ones: past it a request only records its transfer and answers 202, and the start waits for a
   * running transfer to finish (temporal-client/start-pacer.ts).
   */
  TRANSFER_START_WINDOW: z.coerce.number().int().min(1).max(10_000).default(64),
  /** The most transfers one wallet process (API + worker) holds in flight, all shards together: the memory safety net. */
  TRANSFERS_IN_FLIGHT_CEILING: z.coerce.number().int().min(1).max(1_000_000).default(5_000),
  /** How long a completed transfer can be reversed by ops (a duration; 0: not at all). */
  REVERSAL_WINDOW: z.union([z.literal('0').transform(() => 0), duration]).default(7 * duration_units_ms.d),
  /** Transfers and withdrawals at or above this wait for an operator's approval (PENDING_REVIEW). */
  REVIEW_THRESHOLD_MINOR: minorUnits.default(1_000_000n),
  /** At or above this, two different operators must approve. */
  FOUR_EYES_THRESHOLD_MINOR: minorUnits.default(10_000_000n),
  /** A held transfer nobody decided on fails (review_timeout) after this. */
  REVIEW_TIMEOUT: duration.default(3 * duration_units_ms.d),
  /** The most one transfer or withdrawal may move. */
  /** The currencies wallets hold and move; any other code is unsupported_currency. */
  CURRENCIES: currencyList.default([...wallet_currencies_default]),
  TRANSFER_AMOUNT_MAX_MINOR: minorUnits.default(50_000_000n),
  /** The default rolling 24-hour outgoing limit per wallet (user and currency); ops can set a wallet's own. */
  DAILY_OUTGOING_MAX_MINOR: minorUnits.default(100_000_000n),
  /** How long an FX quote locks its rate (POST /v1/wallet/fx/quotes). */
  QUOTE_TTL: duration.default(30 * duration_units_ms.s),
  ORPHAN_SWEEP_INTERVAL_MS: positiveMs.default(60_000),
  ORPHAN_AGE_MIN_MS: positiveMs.default(60_000),
  /** How often the `wallet-reconciliation` Schedule runs reconcileWorkflow; Temporal schedules in whole seconds. */
  RECONCILE_EVERY_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(300_000),
  /** Every this many entries of an account, its ledger takes a snapshot of the balance (written to each shard by db:setup and npm start). */
  SNAPSHOT_EVERY: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
  /** How often the worker counts stuck transfers and the review queue (workers/transfer-monitor.ts). */
  MONITOR_INTERVAL_MS: positiveMs.default(60_000),
  /** A running transfer still PENDING this long after it started is stuck: counted, logged, listed. */
  STUCK_AFTER: duration.default(5 * duration_units_ms.m),
  /** Where a worker running alone (`npm run worker`) serves /metrics. */
  WORKER_METRICS_PORT: port.default(9091),
  /** host:port of the Temporal SDK's Prometheus exporter, appended to /metrics; `off` runs without it. */
  TEMPORAL_SDK_METRICS_ADDRESS: z
    .string()
    .regex(/^(off|[^\s/]+:[0-9]{1,5})$/, 'must be host:port or off')
    .default('127.0.0.1:9464'),
  /** The bank's file exchange (bank/http.ts under `npm start`): where pay-ins are polled and return files uploaded. */
  BANK_URL: z.url().default('http://127.0.0.1:4010'),
  /** The bearer token the bank takes (its BANK_TOKEN); the default is the bank's development token. */
  BANK_TOKEN: z.string().min(32, 'must be at least 32 characters').default(DEV_BANK_TOKEN),
  /** Our bank's routing number: the RDFI of every wallet's virtual account (funding instructions). */
  BANK_ROUTING: routingNumber.default('231380104'),
  BANK_NAME: z.string().min(1).max(23).default('Wallet Dev Bank'),
  /** We as an ACH originator: the company name and ten-character id on the batches we send (returns of pay-ins). */
  ACH_COMPANY_NAME: z.string().min(1).max(16).default('Wallet Inc'),
  ACH_COMPANY_ID: z
    .string()
    .regex(/^[0-9A-Za-z ]{10}$/, 'must be ten characters')
    .default('1234567890'),
  /** moov-io/ach's server the ACH rail builds and reads files with; unset: the one `npm start` runs on ACH_SERVER_PORT. */
  ACH_SERVER_URL: z.url().optional(),
  ACH_SERVER_PORT: port.default(4011),
  /** How often the `wallet-payins` Schedule polls the bank for incoming credits (whole seconds); `off`: no pay-in poller. */
  PAYIN_POLL_EVERY: z
    .union([
      z.literal('off').transform(() => null),
      duration.refine((ms) => ms >= duration_units_ms.s, 'must be at least 1s'),
    ])
    .default(10 * duration_units_ms.s),
  /** How often a cutoff puts the waiting payouts into a file (the wallet-payout-cutoff Schedule). */
  PAYOUT_CUTOFF_EVERY: duration.refine((ms) => ms >= 1_000, 'must be at least 1s').default(10_000),
  /** How often the bank is asked what settled and what came back (the wallet-payout-inbound Schedule). */
  PAYOUT_INBOUND_EVERY: duration.refine((ms) => ms >= 1_000, 'must be at least 1s').default(5_000),
  /** How long a settled payout's workflow stays open for a return (dev: three 30 s banking days). */
  PAYOUT_RETURN_WINDOW: duration.refine((ms) => ms > 0, 'must be more than 0').default(90_000),
  /** A payout before a final state whose status has not changed this long is listed as stuck. */
  PAYOUT_STUCK_AFTER: duration.default(5 * duration_units_ms.m),
  /**
   * How often the `wallet-settlement-reconciliation` Schedule matches the bank's statements of
   * yesterday and today against the ledger (whole seconds; the default runs once a day, at 00:00 UTC).
   */
  SETTLEMENT_RECONCILE_EVERY: duration
    .refine((ms) => ms >= duration_units_ms.s, 'must be at least 1s')
    .default(duration_units_ms.d),
  /** A bank line the wallet has not heard of yet is in transit, not a break, for this long. */
  SETTLEMENT_GRACE: duration.default(10 * duration_units_ms.m),
  /**
   * The JetStream relay (issue 20 §4, docs/events.md "The stream"): the NATS server every wallet
   * worker publishes the wallet events to. Unset: no relay (`npm start` sets it to the
   * nats-server it runs on NATS_PORT).
   */
  NATS_URL: z
    .string()
    .regex(/^(nats|tls):\/\/\S+$/, 'must look like nats://host:port')
    .optional(),
  /** Where `npm start` runs its own `nats-server -js` when NATS_URL is unset. */
  NATS_PORT: port.default(4225),
  /** How often an idle relay looks for new events (and how stale its lag metric may be). */
  EVENT_RELAY_POLL: duration.refine((ms) => ms >= 10, 'must be at least 10ms').default(200),
  // Webhooks (issue 20 §2, README "Webhooks"): the retry schedule, the request, the SSRF guard.
  /** The first retry's wait after a failed delivery; each next one doubles, up to WEBHOOK_RETRY_MAX_INTERVAL. */
  WEBHOOK_RETRY_FIRST: duration.refine((ms) => ms > 0, 'must be more than 0').default(30 * duration_units_ms.s),
  WEBHOOK_RETRY_MAX_INTERVAL: duration.refine((ms) => ms > 0, 'must be more than 0').default(duration_units_ms.h),
  /** An endpoint failing this long (since its oldest undelivered event's first attempt) is disabled. */
  WEBHOOK_RETRY_BUDGET: duration.refine((ms) => ms > 0, 'must be more than 0').default(3 * duration_units_ms.d),
  /**
   * Events that may wait for one endpoint: past it the endpoint is disabled (backlog_exceeded) and
   * its queue dropped. The queue is a delivery workflow's state, carried over each continue-as-new,
   * so it is bounded well inside Temporal's 2 MB payload limit (about 100 bytes an event); at least
   * a replay's 1,000 events, so a replay alone never passes it.
   */
  WEBHOOK_BACKLOG_MAX: z.coerce.number().int().min(1_000).max(10_000).default(5_000),
  /** One delivery attempt's whole request, connect to answer. */
  WEBHOOK_TIMEOUT: duration.refine((ms) => ms > 0 && ms <= 60_000, 'must be between 1ms and 60s').default(5_000),
  /** Deliveries one worker process has in flight at once. */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(16),
  /** How long a rotated-out endpoint secret keeps signing beside the new one. */
  WEBHOOK_SECRET_GRACE: duration.default(24 * duration_units_ms.h),
  /** `true`: endpoints may be loopback or private addresses (development and tests only). */
  WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('.data'),
  /** Fault hook of `npm run chaos` only: per mille of committed legs after which the process kills itself before reporting (activities/chaos-crash.ts). */
  WALLET_CHAOS_CRASH_AFTER_COMMIT_PERMILLE: z.coerce.number().int().min(0).max(1000).default(0),
  /** With the hook armed, `debit`: only a debit that moved money counts. Empty: any committed leg. */
  WALLET_CHAOS_CRASH_AFTER_LEG: z.enum(['', 'debit']).default(''),
});

const loopback_hosts = ['127.0.0.1', 'localhost', '::1'];

export type Config = ReturnType<typeof parseConfig>;

/** The environment read by a schema, or a ConfigError naming every variable that is wrong. */
export function parseEnvironment<Schema extends z.ZodType>(
  schema: Schema,
  environment: NodeJS.ProcessEnv,
): z.output<Schema> {
  const parsed = schema.safeParse(environment);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export function parseConfig(environment: NodeJS.ProcessEnv) {
  const values = parseEnvironment(environmentSchema, environment);
  const usesDevAuthSecret = values.AUTH_SECRET === DEV_AUTH_SECRET;
  const usesDevPayloadKey = values.PAYLOAD_KEYS === DEV_PAYLOAD_KEYS;
  const payloadKeys = payloadKeyList.safeParse(values.PAYLOAD_KEYS);
  if (!payloadKeys.success)
    throw new ConfigError(`invalid environment: PAYLOAD_KEYS: ${payloadKeys.error.issues[0]!.message}`);
  const temporalHost = values.TEMPORAL_ADDRESS?.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') ?? '127.0.0.1';
  if (usesDevPayloadKey && ![values.HOST, temporalHost].every((host) => loopback_hosts.includes(host))) {
    // The development key is public: payloads it encrypts are readable by anyone with the README.
    throw new ConfigError(
      `invalid environment: PAYLOAD_KEYS must be set when HOST (${values.HOST}) or TEMPORAL_ADDRESS (${temporalHost}) is not a loopback address`,
    );
  }
  if (usesDevAuthSecret && !loopback_hosts.includes(values.HOST)) {
    // The development secret is public (it is in the README): anyone could sign an ops token.
    throw new ConfigError(
      `invalid environment: AUTH_SECRET must be set when HOST (${values.HOST}) is not a loopback address`,
    );
  }
  const bankHost = new URL(values.BANK_URL).hostname.replace(/^\[|\]$/g, '');
  if (values.BANK_TOKEN === DEV_BANK_TOKEN && !loopback_hosts.includes(bankHost)) {
    // The development token is public: a bank elsewhere must have its own.
    throw new ConfigError(
      `invalid environment: BANK_TOKEN must be set when BANK_URL (${bankHost}) is not a loopback address`,
    );
  }
  return {
    ...values,
    temporalTls: temporalTlsOf(values),
    shardUrls: values.SHARD_URLS ? parseShardUrls(values.SHARD_URLS) : defaultShardUrls(values),
    usesDevServer: values.TEMPORAL_ADDRESS === undefined,
    temporalAddress: values.TEMPORAL_ADDRESS ?? `127.0.0.1:${values.TEMPORAL_PORT}`,
    usesDevAuthSecret,
    usesDevPayloadKey,
    payloadKeys: payloadKeys.data,
    codecCorsOrigins: (
      values.CODEC_CORS_ORIGINS ??
      `http://127.0.0.1:${values.TEMPORAL_UI_PORT},http://localhost:${values.TEMPORAL_UI_PORT}`
    )
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin !== ''),
    currencies: walletCurrencies(values.CURRENCIES),
    achServerUrl: values.ACH_SERVER_URL ?? `http://127.0.0.1:${values.ACH_SERVER_PORT}`,
  };
}

type TemporalTlsSettings = Pick<
  z.infer<typeof environmentSchema>,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_TLS_CA'
  | 'TEMPORAL_TLS_CERT'
  | 'TEMPORAL_TLS_KEY'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_API_KEY'
>;

/** Where the TLS files of the Temporal connection are; undefined: plain gRPC (the dev server). */
function temporalTlsOf(values: TemporalTlsSettings) {
  const { TEMPORAL_TLS_CA: caPath, TEMPORAL_TLS_CERT: certPath, TEMPORAL_TLS_KEY: keyPath } = values;
  const serverName = values.TEMPORAL_TLS_SERVER_NAME;
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new ConfigError('invalid environment: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY are set together or not at all');
  }
  const any = [caPath, certPath, serverName, values.TEMPORAL_API_KEY].some((value) => value !== undefined);
  if (!any) return undefined;
  if (values.TEMPORAL_ADDRESS === undefined) {
    // The dev server npm start runs speaks plain gRPC only; a TLS setting without an address is a mistake.
    throw new ConfigError('invalid environment: TEMPORAL_TLS_* and TEMPORAL_API_KEY need TEMPORAL_ADDRESS');
  }
  return { caPath, certPath, keyPath, serverName, apiKey: values.TEMPORAL_API_KEY };
}

function parseShardUrls(list: string): string[] {
  const urls = list.split(',').map((url) => url.trim());
  for (const [index, url] of urls.entries()) {
    if (!postgresUrl.safeParse(url).success) {
      throw new ConfigError(
        `invalid environment: SHARD_URLS entry ${index} ("${url}") must look like postgres://user@host:port/database`,
      );
    }
  }
  if (new Set(urls).size !== urls.length) {
    throw new ConfigError('invalid environment: SHARD_URLS lists the same database twice');
  }
  return urls;
}

function defaultShardUrls(values: { PG_URL: string; SHARD_COUNT: number; SHARD_DATABASE_PREFIX: string }) {
  const server = values.PG_URL.replace(/\/[A-Za-z0-9_]+(\?\S*)?$/, '');
  return Array.from({ length: values.SHARD_COUNT }, (_, index) => `${server}/${values.SHARD_DATABASE_PREFIX}${index}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

let loaded: Config | undefined;

/** The process-wide configuration; exits with one clear line when the environment is wrong. */
export function config(): Config {
  if (loaded) return loaded;
  try {
    loaded = parseConfig(process.env);
    return loaded;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`wallet: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/** The action tokens' secret and lifetime in seconds (domain/action-tokens.ts derives the key). */
export function actionTokenSettingsOf(settings: Config): { secret: string; ttlS: number } {
  return {
    secret: settings.ACTION_TOKEN_SECRET ?? settings.AUTH_SECRET,
    ttlS: Math.ceil(settings.ACTION_TOKEN_TTL / 1000),
  };
}

/** The retry and timeout settings every transfer workflow is started with. */
export function timingsOf(settings: Config) {
  return {
    activityTimeoutMs: settings.ACTIVITY_TIMEOUT_MS,
    debitAttemptsMax: settings.DEBIT_ATTEMPTS_MAX,
    debitBusyWaitMaxMs: settings.DEBIT_BUSY_WAIT_MAX,
    retryIntervalMaxMs: settings.RETRY_INTERVAL_MAX_MS,
    reversalWindowMs: settings.REVERSAL_WINDOW,
    reviewTimeoutMs: settings.REVIEW_TIMEOUT,
  };
}

/**
 * Server-side caps on every shard connection, below an activity attempt's timeout: a statement
 * takes at most half an attempt, and a lock wait a quarter, so an attempt blocked on a row lock
 * gives back its worker slot and connection and is retried (with backoff) instead of holding
 * them while Temporal starts new attempts.
 */
export function shardTimeoutsOf(settings: Pick<Config, 'ACTIVITY_TIMEOUT_MS'>): {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
} {
  const statementTimeoutMs = Math.max(1_000, Math.floor(settings.ACTIVITY_TIMEOUT_MS / 2));
  return {
    statementTimeoutMs,
    lockTimeoutMs: Math.min(statementTimeoutMs, Math.max(250, Math.floor(settings.ACTIVITY_TIMEOUT_MS / 4))),
  };
}

/** The chaos run's crash hook, armed only when its per mille is above 0. */
export function chaosCrashOf(settings: Config): { afterCommitPermille: number; debitOnly: boolean } | undefined {
  if (settings.WALLET_CHAOS_CRASH_AFTER_COMMIT_PERMILLE === 0) return undefined;
  return {
    afterCommitPermille: settings.WALLET_CHAOS_CRASH_AFTER_COMMIT_PERMILLE,
    debitOnly: settings.WALLET_CHAOS_CRASH_AFTER_LEG === 'debit',
  };
}

/** The review thresholds and limits every transfer is checked against. */
export function limitsOf(settings: Config): TransferLimits {
  return {
    reviewThresholdMinor: settings.REVIEW_THRESHOLD_MINOR,
    fourEyesThresholdMinor: settings.FOUR_EYES_THRESHOLD_MINOR,
    transferAmountMaxMinor: settings.TRANSFER_AMOUNT_MAX_MINOR,
    dailyOutgoingMaxMinor: settings.DAILY_OUTGOING_MAX_MINOR,
  };
}

/** The payout workflow's durations. */
export function payoutTimingsOf(settings: Config) {
  return {
    activityTimeoutMs: settings.ACTIVITY_TIMEOUT_MS,
    retryIntervalMaxMs: settings.RETRY_INTERVAL_MAX_MS,
    returnWindowMs: settings.PAYOUT_RETURN_WINDOW,
  };
}

/** Who we are on the ACH network (rails/ach/ach-rail.ts AchOriginator). */
export function achOriginatorOf(settings: Config) {
  return {
    odfiRouting: settings.BANK_ROUTING,
    odfiName: settings.BANK_NAME,
    companyName: settings.ACH_COMPANY_NAME,
    companyIdentification: settings.ACH_COMPANY_ID,
    entryDescription: 'PAYOUT',
  };
}

/** Webhooks' schedule, request and guard (workers/webhook-worker.ts WebhookSettings). */
export function webhookSettingsOf(settings: Config) {
  return {
    schedule: {
      firstMs: settings.WEBHOOK_RETRY_FIRST,
      maxMs: settings.WEBHOOK_RETRY_MAX_INTERVAL,
      budgetMs: settings.WEBHOOK_RETRY_BUDGET,
    },
    backlogMax: settings.WEBHOOK_BACKLOG_MAX,
    requestTimeoutMs: settings.WEBHOOK_TIMEOUT,
    allowPrivate: settings.WEBHOOK_ALLOW_PRIVATE,
    concurrency: settings.WEBHOOK_CONCURRENCY,
    secretGraceMs: settings.WEBHOOK_SECRET_GRACE,
  };
}

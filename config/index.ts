import { z } from 'zod';

/**
 * The one place that reads the environment. It is read once, validated, and a bad
 * value stops the process with a single line naming the variable, never a stack trace.
 */

const DEV_AUTH_SECRET = 'dev-only-wallet-secret-change-me-0123456789';

const port = z.coerce.number().int().min(1).max(65535);
const positiveMs = z.coerce.number().int().min(1).max(86_400_000);

const postgresUrl = z
  .string()
  .refine((value) => /^postgres(ql)?:\/\/[^\s/]+\/[A-Za-z0-9_]+(\?\S*)?$/.test(value), {
    message: 'must look like postgres://user@host:port/database',
  });

const environmentSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('wallet-transfers'),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
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
  ACTIVITY_TIMEOUT_MS: positiveMs.default(10_000),
  DEBIT_ATTEMPTS_MAX: z.coerce.number().int().min(1).max(1000).default(12),
  RETRY_INTERVAL_MAX_MS: positiveMs.default(30_000),
  /** Transfers one wallet process (API + worker) runs at once before it answers 503 overloaded. */
  TRANSFERS_IN_FLIGHT_MAX: z.coerce.number().int().min(1).max(100_000).default(32),
  ORPHAN_SWEEP_INTERVAL_MS: positiveMs.default(60_000),
  ORPHAN_AGE_MIN_MS: positiveMs.default(60_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('.data'),
});

export type Config = ReturnType<typeof parseConfig>;

export function parseConfig(environment: NodeJS.ProcessEnv) {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  }
  const values = parsed.data;
  const usesDevAuthSecret = values.AUTH_SECRET === DEV_AUTH_SECRET;
  if (usesDevAuthSecret && !['127.0.0.1', 'localhost', '::1'].includes(values.HOST)) {
    // The development secret is public (it is in the README): anyone could sign an ops token.
    throw new ConfigError(`invalid environment: AUTH_SECRET must be set when HOST (${values.HOST}) is not a loopback address`);
  }
  return {
    ...values,
    shardUrls: values.SHARD_URLS ? parseShardUrls(values.SHARD_URLS) : defaultShardUrls(values),
    usesDevServer: values.TEMPORAL_ADDRESS === undefined,
    temporalAddress: values.TEMPORAL_ADDRESS ?? `127.0.0.1:${values.TEMPORAL_PORT}`,
    usesDevAuthSecret,
  };
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

/** The retry and timeout settings every transfer workflow is started with. */
export function timingsOf(settings: Config) {
  return {
    activityTimeoutMs: settings.ACTIVITY_TIMEOUT_MS,
    debitAttemptsMax: settings.DEBIT_ATTEMPTS_MAX,
    retryIntervalMaxMs: settings.RETRY_INTERVAL_MAX_MS,
  };
}

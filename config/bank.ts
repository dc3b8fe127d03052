import { z } from 'zod';
import { ConfigError, DEV_BANK_TOKEN, duration, duration_units_ms, parseEnvironment, routingNumber } from './index';

/**
 * The bank process's settings (`npm run bank`, bank/main.ts), read once from the environment like
 * the wallet's (config/index.ts). The bank stands in for our real bank, so its settings are its
 * own: nothing of the wallet's configuration is read here, and the wallet reads none of these.
 */

/** DEV_BANK_TOKEN is public (it is in the README), so it is refused unless the bank listens on this machine only. */
const loopback_hosts = ['127.0.0.1', 'localhost', '::1'];

const bankSchema = z.object({
  BANK_PORT: z.coerce.number().int().min(1).max(65535).default(4010),
  BANK_HOST: z.string().min(1).default('127.0.0.1'),
  /** The bearer token every request to the bank carries. */
  BANK_TOKEN: z.string().min(32, 'must be at least 32 characters').default(DEV_BANK_TOKEN),
  BANK_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/[^\s/]+\/[A-Za-z0-9_]+(\?\S*)?$/, 'must look like postgres://user@host:port/database')
    .default('postgres://postgres@127.0.0.1:5432/wallet_bank'),
  /** How long a banking day lasts: entries settle one day after upload, test-matrix returns one day after that. */
  BANK_DAY: duration
    .refine((ms) => ms >= 200 && ms <= duration_units_ms.d, 'must be between 200ms and 1d')
    .default(30_000),
  /** The bank's routing number: our ODFI for payouts, and the RDFI of the wallet's virtual accounts. */
  BANK_ROUTING: routingNumber.default('231380104'),
  BANK_NAME: z.string().min(1).max(23).default('Wallet Dev Bank'),
  /** moov-io/ach's server (the NACHA library); unset: the one `npm run bank`/`npm start` runs on ACH_SERVER_PORT. */
  ACH_SERVER_URL: z.url().optional(),
  ACH_SERVER_PORT: z.coerce.number().int().min(1).max(65535).default(4011),
});

export type BankConfig = ReturnType<typeof parseBankConfig>;

export function parseBankConfig(environment: NodeJS.ProcessEnv) {
  const values = parseEnvironment(bankSchema, environment);
  const usesDevToken = values.BANK_TOKEN === DEV_BANK_TOKEN;
  if (usesDevToken && !loopback_hosts.includes(values.BANK_HOST)) {
    throw new ConfigError(
      `invalid environment: BANK_TOKEN must be set when BANK_HOST (${values.BANK_HOST}) is not a loopback address`,
    );
  }
  return {
    ...values,
    usesDevToken,
    achServerUrl: values.ACH_SERVER_URL ?? `http://127.0.0.1:${values.ACH_SERVER_PORT}`,
  };
}

/** The bank's configuration; exits with one clear line when the environment is wrong. */
export function bankConfig(): BankConfig {
  try {
    return parseBankConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`bank: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

import { parseArgs } from 'node:util';

export interface ChaosOptions {
  seed: number;
  /** Client operations that move money (transfers, deposits, withdrawals, conversions, held transfers). */
  transfers: number;
  /** Faults drawn by the schedule, spread over the run. */
  faults: number;
  /** Operations started per second (the workload is paced so faults land during load). */
  rate_per_s: number;
  /** Client operations in flight at most. */
  concurrency: number;
  users: number;
  wallets: number;
  /** The rails, in the mix: payouts to bank accounts, credits from outside, and bank faults of each kind. */
  payouts: number;
  credits: number;
  rails_faults: number;
  /** Workflow histories replayed at the end (a seeded sample when the run made more). */
  replay_max: number;
  out_dir: string;
}

export const chaos_usage = `npm run chaos -- [options]
  --seed N          seed of the workload and the fault schedule [1]
  --transfers N     money-moving client operations [300]
  --faults N        faults injected, every kind in turn, in seeded order [12]
  --rate N          operations started per second [5]
  --concurrency N   client operations in flight at most [16]
  --users N         users, spread over the 4 shards [24]
  --wallets N       wallet processes (API and worker each) [2]
  --payouts N       payouts to bank accounts in the mix (some returned, canceled, racing) [40]
  --credits N       credits from outside to the bank in the mix (known, unknown, closed) [30]
  --rails-faults N  bank faults of each kind (kill, outage, duplicate, late) [2]
  --replay-max N    workflow histories replayed at the end; a seeded sample beyond [5000]
  --out DIR         where the table goes (<stamp>.md, <stamp>.json) [chaos-results]`;

const shard_count = 4;
export const chaos_shard_count = shard_count;

/** Reads and checks the command line; throws a message naming the bad option. */
export function parseChaosOptions(argv: string[]): ChaosOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      seed: { type: 'string', default: '1' },
      transfers: { type: 'string', default: '300' },
      faults: { type: 'string', default: '12' },
      rate: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '16' },
      users: { type: 'string', default: '24' },
      wallets: { type: 'string', default: '2' },
      payouts: { type: 'string', default: '40' },
      credits: { type: 'string', default: '30' },
      'rails-faults': { type: 'string', default: '2' },
      'replay-max': { type: 'string', default: '5000' },
      out: { type: 'string', default: 'chaos-results' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const whole = (name: string, text: string, min: number, max: number) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new Error(`--${name} must be a whole number from ${min} to ${max} (got ${text})`);
    return value;
  };
  return {
    seed: whole('seed', values.seed, 0, 2 ** 32 - 1),
    transfers: whole('transfers', values.transfers, 10, 1_000_000),
    faults: whole('faults', values.faults, 0, 1_000),
    rate_per_s: whole('rate', values.rate, 1, 1_000),
    concurrency: whole('concurrency', values.concurrency, 1, 256),
    users: whole('users', values.users, 3 * shard_count, 10_000),
    wallets: whole('wallets', values.wallets, 1, 8),
    payouts: whole('payouts', values.payouts, 10, 100_000),
    credits: whole('credits', values.credits, 10, 100_000),
    rails_faults: whole('rails-faults', values['rails-faults'], 0, 100),
    replay_max: whole('replay-max', values['replay-max'], 0, 1_000_000),
    out_dir: values.out,
  };
}

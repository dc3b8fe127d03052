/**
 * Database names for this run: `<prefix>bench_<pid>_<suffix>`. The prefix is the test runner's
 * (WALLET_TEST_DB_PREFIX) under `npm test`, so its cleanup covers a bench it runs.
 */
export function benchDatabasePrefix(): string {
  return `${process.env.WALLET_TEST_DB_PREFIX ?? 'wallet_'}bench_`;
}

export function databaseName(suffix: string): string {
  return `${benchDatabasePrefix()}${process.pid}_${suffix}`;
}

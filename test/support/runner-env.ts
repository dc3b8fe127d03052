/** What scripts/run-tests.ts hands the integration tests: the Temporal server, the PostgreSQL server and the migrated template. */
type RunnerVariable =
  'TEMPORAL_ADDRESS' | 'WALLET_TEST_PG_URL' | 'WALLET_TEST_DB_PREFIX' | 'WALLET_TEST_TEMPLATE' | 'ACH_SERVER_BIN';

/**
 * Read when a test needs it, never when a support file is imported, so a file that uses no
 * service (or a tool that only loads the module) runs without the runner.
 */
export function runnerEnv(name: RunnerVariable): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: integration tests run under the test runner, which starts Temporal and PostgreSQL for them (npm test -- test/FILE.test.ts)`,
    );
  return value;
}

import { Connection, type ConnectionOptions } from '@temporalio/client';

/**
 * Resolves once the frontend answers and the namespace exists (the dev server creates it a moment
 * after it listens). `access` is TLS (`npm run temporal:cluster` serves mutual TLS) or an API key.
 */
export async function waitForTemporal(
  address: string,
  namespace: string,
  timeoutMs: number,
  access: Pick<ConnectionOptions, 'tls' | 'apiKey'> = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ ...access, address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(
    `Temporal at ${address} was not ready within ${timeoutMs} ms: ${(lastError as Error)?.message ?? 'no answer'}`,
  );
}

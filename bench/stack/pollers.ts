import { Connection } from '@temporalio/client';

/** Resolves when at least `count` workers poll the task queue for workflow tasks. */
export async function waitForPollers(
  address: string,
  namespace: string,
  taskQueue: string,
  count: number,
  timeout_ms: number,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const deadline_ms = Date.now() + timeout_ms;
    while (Date.now() < deadline_ms) {
      const described = await connection.workflowService.describeTaskQueue({
        namespace,
        // With no type given, the server describes the workflow task queue.
        taskQueue: { name: taskQueue },
      });
      const identities = new Set((described.pollers ?? []).map((poller) => poller.identity));
      if (identities.size >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`fewer than ${count} workers polled ${taskQueue} within ${timeout_ms} ms`);
  } finally {
    await connection.close();
  }
}

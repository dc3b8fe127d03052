import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { config } from '../config';
import { walletDataConverter } from '../temporal-client/payload-codec';
import { give_up_after_ms, sleep, type SignalSender } from './client';

const backoff_first_ms = 200;
const backoff_max_ms = 2_000;

/**
 * Operators' signals as the Web UI and the CLI send them, straight to the engine (which the run
 * restarts): each is retried until the engine takes it, for as long as an HTTP request would be.
 */
export class ChaosSignals implements SignalSender {
  private connection: Promise<Connection> | undefined;
  private readonly dataConverter = walletDataConverter(config().payloadKeys);

  constructor(private readonly address: string) {}

  /** True once the engine took the signal; false if the workflow is gone or the engine never answered. */
  async send(workflowId: string, name: string, input: object): Promise<boolean> {
    const deadline = Date.now() + give_up_after_ms;
    for (let attempt = 0; ; attempt++) {
      try {
        this.connection ??= Connection.connect({ address: this.address });
        // With the wallet's codec, as the Web UI signed in to the codec endpoint sends it: the token is encrypted in history.
        const client = new Client({ connection: await this.connection, dataConverter: this.dataConverter });
        await client.workflow.getHandle(workflowId).signal(name, input);
        return true;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError || /already completed/i.test((error as Error).message)) return false;
        // A connection that never came up is made again; an established one reconnects by itself.
        if (!(await this.connection?.then(() => true).catch(() => false))) this.connection = undefined;
        if (Date.now() > deadline) return false;
        await sleep(Math.min(backoff_max_ms, backoff_first_ms * 2 ** attempt));
      }
    }
  }

  async close(): Promise<void> {
    await (await this.connection?.catch(() => undefined))?.close();
  }
}

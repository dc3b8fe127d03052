import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { stopChildren } from '../../supervisor/children';
import { freePort, waitForPort } from '../../supervisor/dev-server';
import { startNatsServer } from '../../supervisor/nats-server';
import { event_stream_name } from '../../workers/event-stream';

/** A message as the stream holds it: its stream sequence, subject, message id and envelope. */
export interface StreamMessage {
  seq: number;
  subject: string;
  msgId: string;
  event: { id: string; user_id: string; sequence: number; type: string };
}

/** A NATS server with JetStream of this test file's own, on a free port with a throwaway store. */
export async function startTestNats() {
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(tmpdir(), 'wallet-nats-'));
  const child = startNatsServer({ port, storeDir, output: 'ignore' });
  await waitForPort(port, 20_000);
  const url = `nats://127.0.0.1:${port}`;
  const connection = await connect({ servers: url });
  return {
    url,
    /** Messages in the stream (0 before the relay made it). */
    async count(): Promise<number> {
      const manager = await jetstreamManager(connection);
      return manager.streams.info(event_stream_name).then(
        (info) => info.state.messages,
        () => 0,
      );
    },
    /** Every message of the stream, in stream order (an ordered consumer from the first). */
    async messages(): Promise<StreamMessage[]> {
      const manager = await jetstreamManager(connection);
      const total = (await manager.streams.info(event_stream_name)).state.messages;
      const found: StreamMessage[] = [];
      if (total === 0) return found;
      const consumer = await jetstream(connection).consumers.get(event_stream_name);
      const messages = await consumer.consume();
      for await (const message of messages) {
        found.push({
          seq: message.seq,
          subject: message.subject,
          msgId: message.headers?.get('Nats-Msg-Id') ?? '',
          event: message.json(),
        });
        if (found.length === total) break;
      }
      await messages.close();
      return found;
    },
    async stop() {
      await connection.close();
      await stopChildren([child], 5_000);
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

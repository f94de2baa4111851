import { Connection, create_container, Receiver } from 'rhea';
import { getDialect } from '../../shared/messaging/dialect';
import type { DialectName } from '../../shared/config';
import { amqpUrl, brokerDialect } from './env';

export interface ReceivedMessage {
  body: unknown;
  applicationProperties: Record<string, unknown>;
  contentType?: string;
  correlationId?: string;
  durable?: boolean;
}

export interface TopicSubscriber {
  messages: ReceivedMessage[];
  waitFor(pred: (msgs: ReceivedMessage[]) => boolean, timeoutMs?: number): Promise<ReceivedMessage[]>;
  close(): Promise<void>;
}

/** Subscribes to an IIB-style destination (topic://X) on the test broker. */
export async function subscribe(destination: string, url = amqpUrl): Promise<TopicSubscriber> {
  const u = new URL(url);
  const conn: Connection = create_container().connect({
    host: u.hostname,
    port: Number(u.port || 5672),
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    reconnect: false,
  });
  const address = getDialect(brokerDialect as DialectName).destination(destination).address;
  const receiver: Receiver = conn.open_receiver({ source: { address } });
  const messages: ReceivedMessage[] = [];
  receiver.on('message', (ctx) => {
    const m = ctx.message;
    if (!m) return;
    messages.push({
      body: m.body,
      applicationProperties: (m.application_properties ?? {}) as Record<string, unknown>,
      contentType: m.content_type,
      correlationId: m.correlation_id === undefined ? undefined : String(m.correlation_id),
      durable: m.durable,
    });
  });
  await new Promise<void>((resolve, reject) => {
    receiver.once('receiver_open', () => resolve());
    conn.once('connection_error', () => reject(new Error('subscriber connection refused')));
    conn.once('disconnected', (ctx) =>
      reject(new Error(`broker not reachable at ${u.host} (${String(ctx.error)}): run \`npm run stack\``)),
    );
  });
  return {
    messages,
    waitFor: async (pred, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pred(messages)) {
        if (Date.now() > deadline) throw new Error(`timed out; received ${messages.length} messages`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return messages;
    },
    close: async () => {
      conn.close();
      await new Promise((r) => setTimeout(r, 50));
    },
  };
}

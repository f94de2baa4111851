import { Client, Policy, type Amqp10Message } from 'amqp10';
import { amqpUrl } from './env';

/**
 * A subscriber on amqp10, an AMQP 1.0 client written independently of rhea
 * (its own codec, framing and link state machine): what it reads is what any
 * AMQP 1.0 consumer would read, not what rhea reads back from rhea.
 */
export interface Amqp10Subscriber {
  readonly messages: Amqp10Message[];
  /** Resolves once `count` messages have arrived; fails after timeoutMs saying how many came. */
  waitForCount(count: number, timeoutMs?: number): Promise<Amqp10Message[]>;
  close(): Promise<void>;
}

/** Subscribes to a broker address as given (e.g. RabbitMQ's `/topic/KEY`). */
export async function subscribeAmqp10(address: string, url = amqpUrl): Promise<Amqp10Subscriber> {
  // Addresses are taken literally (amqp10 would otherwise read `a/b` as
  // address a with subject filter b), and no message size limit.
  const client = new Client(
    Policy.merge({ defaultSubjects: false, receiverLink: { attach: { maxMessageSize: 0 } } }, Policy.Default),
  );
  try {
    await client.connect(url);
  } catch (err) {
    throw new Error(`amqp10 cannot connect to ${new URL(url).host} (${String(err)}): run \`npm run stack\``, {
      cause: err,
    });
  }
  const receiver = await client.createReceiver(address);
  const messages: Amqp10Message[] = [];
  const listeners = new Set<() => void>();
  receiver.on('message', (m: Amqp10Message) => {
    messages.push(m);
    for (const l of [...listeners]) l();
  });
  return {
    messages,
    waitForCount: (count, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (messages.length < count) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(messages);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`expected ${count} messages on ${address}, received ${messages.length}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    close: async () => {
      await client.disconnect();
    },
  };
}

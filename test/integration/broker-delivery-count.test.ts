import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Connection, create_container } from 'rhea';
import { loadAmqpConfig } from '../../shared/config';
import { Messaging } from '../../shared/messaging';
import { deleteNamespaceQueues } from '../support/broker-admin';
import { amqpUrl, brokerDialect, brokerEnv } from '../support/env';

/**
 * What the broker tells the next consumer of a message whose consumer died
 * with it unsettled: the AMQP header's delivery-count. The services' delivery
 * limit counts crashed builders with it (shared/messaging/consumer.ts), so
 * this is the broker property the attempts limit of the lanes stands on.
 * Each broker's answer is asserted: where it does not count, docs/lanes.md
 * says the limit does not hold there.
 */

const log = pino({ level: 'silent' });
const namespace = `dc${randomBytes(4).toString('hex')}.`;
let messaging: Messaging;

beforeAll(async () => {
  messaging = new Messaging(loadAmqpConfig(brokerEnv(namespace)), log);
  try {
    await messaging.connection.waitUp(10_000);
  } catch {
    throw new Error(`AMQP broker not reachable at ${amqpUrl}: run \`npm run stack\``);
  }
});

afterAll(async () => {
  await messaging?.close(1000);
  await deleteNamespaceQueues(namespace);
});

function connect(): Connection {
  const u = new URL(amqpUrl);
  return create_container().connect({
    host: u.hostname,
    port: Number(u.port || 5672),
    username: decodeURIComponent(u.username) || undefined,
    password: decodeURIComponent(u.password) || undefined,
    reconnect: false,
  });
}

/** Takes the next message of the queue without settling it, then drops the connection as a SIGKILL would. */
async function receiveAndDie(queue: string): Promise<number> {
  const conn = connect();
  const source = messaging.dialect.queueSource(messaging.queueName(queue));
  const count = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${source.address} in 15 s`)), 15_000);
    const receiver = conn.open_receiver({ source, autoaccept: false, credit_window: 1 });
    receiver.on('message', (ctx) => {
      clearTimeout(timer);
      resolve(ctx.message?.delivery_count ?? 0);
    });
  });
  (conn as unknown as { socket?: { destroy(): void } }).socket?.destroy();
  return count;
}

describe(`delivery counts of the test broker (${brokerDialect})`, () => {
  it('when consumers die holding a message, then the next one is told how many had it, as far as the broker counts', async () => {
    const queue = 'deaths';
    await (await messaging.queueSender(queue)).send({ body: 'x', messageId: 'dc-1' });
    const seen: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      seen.push(await receiveAndDie(queue));
      // Long enough for the broker to notice the dead connection.
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (brokerDialect === 'activemq') {
      // Every death counts: the next consumer can enforce the limit.
      expect(seen).toEqual([0, 1, 2]);
    } else if (brokerDialect === 'rabbitmq') {
      // A plain queue does not count; the lanes are quorum queues whose
      // x-delivery-limit makes the broker itself dead-letter (lanes-serial).
      expect(seen).toEqual([0, 0, 0]);
    } else {
      // Artemis counts some deaths and forgets others, depending on when it
      // notices the dead connection: never more than happened, often fewer.
      seen.forEach((count, i) => expect(count).toBeLessThanOrEqual(i));
    }
  });
});

import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { loadAmqpConfig } from '../../shared/config';
import { DependencyError, ValidationError } from '../../shared/errors';
import { InboundMessage, Messaging, Names } from '../../shared/messaging';
import { amqpUrl, brokerEnv } from '../support/env';
import { deleteNamespaceQueues } from '../support/broker-admin';
import { freePort } from '../support/system';

const log = pino({ level: 'silent' });
/** Every namespace this file declared queues in, removed at the end. */
const namespaces: string[] = [];

afterAll(async () => {
  for (const namespace of namespaces.splice(0)) await deleteNamespaceQueues(namespace);
});

function messaging(env: Record<string, string> = {}): Messaging {
  const namespace = `m${randomBytes(4).toString('hex')}.`;
  namespaces.push(namespace);
  const config = loadAmqpConfig({
    ...brokerEnv(namespace),
    IIB_AMQP_MAX_DELIVERIES: '3',
    IIB_AMQP_SEND_TIMEOUT_MS: '5000',
    ...env,
  });
  return new Messaging(config, log);
}

async function until(pred: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the messaging core against the real broker', () => {
  let m: Messaging;

  beforeEach(async () => {
    m = messaging();
    try {
      await m.connection.waitUp(10_000);
    } catch {
      throw new Error(`AMQP broker not reachable at ${amqpUrl}: run \`npm run stack\``);
    }
  });

  afterEach(async () => {
    await m.close(1000);
  });

  it('when a message is sent, then send() resolves after acceptance and the consumer gets body and properties', async () => {
    const got: InboundMessage[] = [];
    m.consumeQueue('orders', async (msg) => void got.push(msg), { concurrency: 2 });
    const sender = await m.queueSender('orders');
    await sender.send({ body: { a: 1 }, applicationProperties: { id: 7, user: 'alice' }, messageId: 'm-1' });
    await until(() => got.length === 1);
    expect(got[0]!.body).toEqual({ a: 1 });
    expect(got[0]!.applicationProperties).toMatchObject({ id: 7, user: 'alice' });
    expect(got[0]!.messageId).toBe('m-1');
  });

  it('when handlers are slow, then no more than the concurrency limit run at once', async () => {
    let running = 0;
    let peak = 0;
    let done = 0;
    m.consumeQueue(
      'slow',
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 50));
        running -= 1;
        done += 1;
      },
      { concurrency: 3 },
    );
    const sender = await m.queueSender('slow');
    await Promise.all(Array.from({ length: 20 }, (_, i) => sender.send({ body: i })));
    await until(() => done === 20);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });

  it('when a handler fails with a retryable error, then the message comes again and succeeds', async () => {
    let calls = 0;
    m.consumeQueue(
      'flaky',
      async () => {
        calls += 1;
        if (calls === 1) throw new DependencyError('database away', { retryable: true });
      },
      { concurrency: 1, retryBaseDelayMs: 10 },
    );
    await (await m.queueSender('flaky')).send({ body: 'x', messageId: 'flaky-1' });
    await until(() => calls === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(2);
  });

  it('when a handler rejects a message as invalid, or it keeps failing, then it lands on the dead-letter queue', async () => {
    const dead: InboundMessage[] = [];
    m.consumeQueue(Names.deadLetter, async (msg) => void dead.push(msg), { concurrency: 5 });
    let retried = 0;
    m.consumeQueue(
      'poison',
      async (msg) => {
        if (msg.body === 'bad') throw new ValidationError('not a request');
        retried += 1;
        throw new DependencyError('always down', { retryable: true });
      },
      { concurrency: 1, retryBaseDelayMs: 10 },
    );
    const sender = await m.queueSender('poison');
    await sender.send({ body: 'bad', messageId: 'p-1' });
    await sender.send({ body: 'retry', messageId: 'p-2' });
    await until(() => dead.length === 2);
    expect(dead.map((d) => d.body).sort()).toEqual(['bad', 'retry']);
    expect(retried).toBe(3);
  });

  it('when the first URL of the failover list is down, then the connection uses the next one', async () => {
    const closed = await freePort();
    const u = new URL(amqpUrl);
    const failover = messaging({
      IIB_AMQP_URLS: `amqp://${u.username}:${u.password}@127.0.0.1:${closed},${amqpUrl}`,
    });
    try {
      await failover.connection.waitUp(10_000);
      const got: unknown[] = [];
      failover.consumeQueue('fo', async (msg) => void got.push(msg.body), { concurrency: 1 });
      await (await failover.queueSender('fo')).send({ body: 'over' });
      await until(() => got.length === 1);
      expect(got).toEqual(['over']);
    } finally {
      await failover.close(1000);
    }
  });

  it('when the broker is unreachable, then send() rejects with a retryable error instead of hanging', async () => {
    const closed = await freePort();
    const nowhere = messaging({
      IIB_AMQP_URLS: `amqp://127.0.0.1:${closed}`,
      IIB_AMQP_SEND_TIMEOUT_MS: '500',
    });
    try {
      const sender = nowhere.senderTo(nowhere.dialect.queueTarget('x'));
      await expect(sender.send({ body: 1 })).rejects.toMatchObject({ retryable: true });
    } finally {
      await nowhere.close(100);
    }
  });
});

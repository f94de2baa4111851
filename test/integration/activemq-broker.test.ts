import * as fs from 'node:fs';
import * as tls from 'node:tls';
import pino from 'pino';
import {
  Connection,
  ConnectionOptions,
  create_container,
  Delivery,
  EventContext,
  Message,
  Receiver,
} from 'rhea';
import { loadAmqpConfig } from '../../shared/config';
import { InboundMessage, Messaging, Names } from '../../shared/messaging';
import { startTestBroker, type TestBroker } from '../support/activemq-broker';
import { createTestPki, type TestPki } from '../support/test-pki';

/**
 * The broker guarantees the services rely on, held against a real ActiveMQ
 * Classic running deploy/activemq/activemq.xml (a broker of this file's own,
 * so it can be killed and restarted, and given this file's CA).
 */

jest.setTimeout(120_000);

let broker: TestBroker;
let pki: TestPki;
const open: Connection[] = [];

beforeAll(async () => {
  pki = await createTestPki('iib-activemq-test');
  broker = await startTestBroker({ pki });
});

afterAll(async () => {
  for (const c of open.splice(0)) c.close();
  await broker?.stop();
  if (pki) fs.rmSync(pki.dir, { recursive: true, force: true });
});

afterEach(() => {
  for (const c of open.splice(0)) {
    c.removeAllListeners();
    c.on('error', () => undefined);
    c.on('disconnected', () => undefined);
    c.close();
  }
});

interface Got {
  message: Message;
  delivery: Delivery;
}

/** A plain rhea connection (no reconnect), opened. */
async function connect(options: Partial<ConnectionOptions> = {}): Promise<Connection> {
  const conn = create_container({ id: options.container_id }).connect({
    host: '127.0.0.1',
    port: broker.amqpPort,
    username: 'guest',
    password: 'guest',
    reconnect: false,
    ...options,
  } as ConnectionOptions);
  open.push(conn);
  await new Promise<void>((resolve, reject) => {
    conn.once('connection_open', () => resolve());
    conn.once('disconnected', (ctx: EventContext) =>
      reject(new Error(`test broker not reachable: ${String(ctx.error)}\n${broker.log().slice(-2000)}`)),
    );
  });
  return conn;
}

/** Sends durable (unless said otherwise) and resolves with the broker's outcome. */
function send(conn: Connection, address: string, messages: Message[]): Promise<string[]> {
  const sender = conn.open_sender({ target: { address } });
  return new Promise((resolve) => {
    const outcomes: string[] = [];
    const done = (o: string) => () => {
      outcomes.push(o);
      if (outcomes.length === messages.length) resolve(outcomes);
    };
    sender.on('accepted', done('accepted'));
    sender.on('rejected', done('rejected'));
    sender.on('released', done('released'));
    sender.on('modified', done('modified'));
    sender.once('sendable', () => {
      for (const m of messages) sender.send({ durable: true, ...m });
    });
  });
}

/** A receiver with manual settlement and the given credit. */
function receive(
  conn: Connection,
  source: string | Record<string, unknown>,
  credit = 10,
  name?: string,
): { link: Receiver; got: Got[]; opened: Promise<void> } {
  const link = conn.open_receiver({
    name,
    source: typeof source === 'string' ? { address: source } : source,
    autoaccept: false,
    // Credit only as the test grants it: what arrives is what the broker chose to deliver.
    credit_window: 0,
  } as never);
  const got: Got[] = [];
  link.on('message', (ctx: EventContext) => got.push({ message: ctx.message!, delivery: ctx.delivery! }));
  // ActiveMQ refuses a link by attaching it without a source, then detaching it with the error.
  const opened = new Promise<void>((resolve, reject) => {
    link.once('receiver_open', () => {
      if (!link.source) return;
      link.add_credit(credit);
      resolve();
    });
    link.once('receiver_error', (ctx: EventContext) => {
      reject(new Error(`receiver refused: ${JSON.stringify(ctx.receiver?.error)}`));
    });
  });
  opened.catch(() => undefined);
  return { link, got, opened };
}

async function until(pred: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const quiet = (): Promise<void> => new Promise((r) => setTimeout(r, 500));

let seq = 0;
const unique = (name: string): string => `t${process.pid}.${(seq += 1)}.${name}`;

describe('ActiveMQ Classic: settlement and redelivery', () => {
  it('when a consumer releases a message, then it comes again with an unchanged delivery count; modified(delivery_failed) adds one', async () => {
    const q = `queue://${unique('redeliver')}`;
    const conn = await connect();
    expect(await send(conn, q, [{ body: 'x' }])).toEqual(['accepted']);
    const r = receive(conn, q, 1);
    await until(() => r.got.length === 1, 'first delivery');
    expect(r.got[0]!.message.delivery_count ?? 0).toBe(0);
    r.got[0]!.delivery.release();
    r.link.add_credit(1);
    await until(() => r.got.length === 2, 'redelivery after release');
    expect(r.got[1]!.message.delivery_count ?? 0).toBe(0);
    r.got[1]!.delivery.modified({ delivery_failed: true });
    r.link.add_credit(1);
    await until(() => r.got.length === 3, 'redelivery after modified');
    expect(r.got[2]!.message.delivery_count).toBe(1);
    r.got[2]!.delivery.accept();
    r.link.add_credit(1);
    await quiet();
    expect(r.got).toHaveLength(3);
  });

  it('when a consumer dies holding a message, then it is redelivered with the delivery count raised (what the builders count attempts by)', async () => {
    const q = `queue://${unique('dies')}`;
    const conn = await connect();
    await send(conn, q, [{ body: 'work' }]);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const dying = await connect();
      const r = receive(dying, q, 1);
      await until(() => r.got.length === 1, `delivery ${attempt + 1}`);
      expect(r.got[0]!.message.delivery_count ?? 0).toBe(attempt);
      // The socket goes away without a detach or close, as with SIGKILL.
      (dying as unknown as { socket: { destroy(): void } }).socket.destroy();
      await new Promise((res) => setTimeout(res, 300));
    }
    const last = receive(conn, q, 1);
    await until(() => last.got.length === 1, 'delivery after three deaths');
    expect(last.got[0]!.message.delivery_count).toBe(3);
    last.got[0]!.delivery.accept();
  });

  it('when a consumer rejects a message, then it lands on DLQ.<queue>, which the logical dead-letter queue reads', async () => {
    const ns = `${unique('ns')}.`;
    const m = new Messaging(
      loadAmqpConfig({ IIB_BROKER_DIALECT: 'activemq', IIB_AMQP_URLS: broker.url, IIB_AMQP_NAMESPACE: ns }),
      pino({ level: 'silent' }),
    );
    try {
      const conn = await connect();
      await send(conn, `queue://${ns}iib.requests`, [{ body: 'poison', message_id: 'p-1' }]);
      const r = receive(conn, `queue://${ns}iib.requests`, 1);
      await until(() => r.got.length === 1, 'delivery');
      r.got[0]!.delivery.reject({ condition: 'iib:invalid-message', description: 'not a request' });
      const dlq = receive(conn, `queue://DLQ.${ns}iib.requests`, 1);
      await until(() => dlq.got.length === 1, 'the message on DLQ.<queue>');
      expect(dlq.got[0]!.message.message_id).toBe('p-1');
      dlq.got[0]!.delivery.release();
      dlq.link.close();
      await quiet();

      const dead: InboundMessage[] = [];
      m.consumeQueue(Names.deadLetter, async (msg) => void dead.push(msg), { concurrency: 5 });
      await until(() => dead.length === 1, 'the logical dead-letter queue');
      expect(dead[0]!.messageId).toBe('p-1');
    } finally {
      await m.close(1000);
    }
  });
});

describe('ActiveMQ Classic: persistence', () => {
  it('when the broker is killed (SIGKILL) and started again, then durable messages are still there and non-durable ones are not', async () => {
    const q = `queue://${unique('persist')}`;
    const conn = await connect();
    const outcomes = await send(conn, q, [
      { body: 'd1', message_id: 'd1' },
      { body: 'n1', message_id: 'n1', durable: false },
      { body: 'd2', message_id: 'd2' },
    ]);
    expect(outcomes).toEqual(['accepted', 'accepted', 'accepted']);
    open.splice(0).forEach((c) => {
      c.on('disconnected', () => undefined);
      c.on('error', () => undefined);
    });
    await broker.kill();
    await broker.start();

    const again = await connect();
    const r = receive(again, q, 10);
    await until(() => r.got.length >= 2, 'durable messages after the restart');
    await quiet();
    expect(r.got.map((g) => g.message.message_id)).toEqual(['d1', 'd2']);
    r.got.forEach((g) => g.delivery.accept());
  });
});

describe('ActiveMQ Classic: serial lanes (exclusive consumers)', () => {
  it('when two consumers attach with consumer.exclusive=true, then one gets everything in order, and when it dies the other resumes from its unsettled message', async () => {
    const q = unique('iib.build.serial.x');
    const address = `queue://${q}?consumer.exclusive=true`;
    const a = await connect();
    const b = await connect();
    const ra = receive(a, address, 1);
    await ra.opened;
    const rb = receive(b, address, 1);
    await rb.opened;
    const producer = await connect();
    await send(
      producer,
      `queue://${q}`,
      Array.from({ length: 6 }, (_, i) => ({ body: i, message_id: `m${i}` })),
    );
    // A takes 0, 1, 2 one at a time; B (standby) gets nothing.
    for (let i = 0; i < 3; i += 1) {
      await until(() => ra.got.length === i + 1, `A gets m${i}`);
      if (i < 2) {
        ra.got[i]!.delivery.accept();
        ra.link.add_credit(1);
      }
    }
    expect(ra.got.map((g) => g.message.message_id)).toEqual(['m0', 'm1', 'm2']);
    expect(rb.got).toHaveLength(0);

    // A dies holding m2: B takes over from m2, in order.
    (a as unknown as { socket: { destroy(): void } }).socket.destroy();
    for (let i = 2; i < 6; i += 1) {
      await until(() => rb.got.length === i - 1, `B gets m${i}`);
      rb.got[i - 2]!.delivery.accept();
      rb.link.add_credit(1);
    }
    expect(rb.got.map((g) => g.message.message_id)).toEqual(['m2', 'm3', 'm4', 'm5']);
  });

  it('when a consumer.* option is unknown, then the broker refuses the link (a typo does not silently lose the guarantee)', async () => {
    const conn = await connect();
    const link = conn.open_receiver({
      source: { address: `queue://${unique('typo')}?consumer.exclusiv=true` },
    });
    const error = await new Promise<unknown>((resolve) => {
      link.once('receiver_error', (ctx: EventContext) => resolve(ctx.receiver?.error));
      setTimeout(() => resolve(undefined), 5000);
    });
    expect(JSON.stringify(error)).toMatch(/amqp:invalid-field/);
    expect(JSON.stringify(error)).toMatch(/exclusiv=true/);
  });
});

describe('ActiveMQ Classic: the external topics as IIB subscribers use them', () => {
  it('when apps read Consumer.<app>.VirtualTopic.X queues, then each app gets every message and instances of one app share them', async () => {
    const topic = `VirtualTopic.${unique('eng.iib.build.state')}`;
    const conn = await connect();
    const a1 = receive(conn, `queue://Consumer.appA.${topic}`, 10);
    const a2 = receive(conn, `queue://Consumer.appA.${topic}`, 10);
    const b = receive(conn, `queue://Consumer.appB.${topic}`, 10);
    await Promise.all([a1.opened, a2.opened, b.opened]);
    await send(
      conn,
      `topic://${topic}`,
      Array.from({ length: 6 }, (_, i) => ({
        body: i,
        message_id: `s${i}`,
        application_properties: { id: i },
      })),
    );
    await until(() => b.got.length === 6 && a1.got.length + a2.got.length === 6, 'fan-out');
    await quiet();
    expect(b.got.map((g) => g.message.message_id)).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
    const appA = [...a1.got, ...a2.got].map((g) => g.message.message_id).sort();
    expect(appA).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
    expect(a1.got.length).toBeGreaterThan(0);
    expect(a2.got.length).toBeGreaterThan(0);
    expect(b.got[3]!.message.application_properties).toEqual({ id: 3 });
    [...a1.got, ...a2.got, ...b.got].forEach((g) => g.delivery.accept());
  });

  it('when a consumer queue exists and its app is away, then messages wait in it', async () => {
    const topic = `VirtualTopic.${unique('away')}`;
    const conn = await connect();
    const first = receive(conn, `queue://Consumer.late.${topic}`, 1);
    await first.opened;
    first.link.close();
    await quiet();
    await send(conn, `topic://${topic}`, [{ body: 'while away', message_id: 'w1' }]);
    const back = receive(conn, `queue://Consumer.late.${topic}`, 1);
    await until(() => back.got.length === 1, 'the message kept for the app');
    expect(back.got[0]!.message.message_id).toBe('w1');
    back.got[0]!.delivery.accept();
  });

  it('when a durable subscription is detached, then messages sent meanwhile arrive on reattach; closing it unsubscribes', async () => {
    const topic = `VirtualTopic.${unique('durable')}`;
    const source = { address: `topic://${topic}`, durable: 2, expiry_policy: 'never' };
    const containerId = `sub-${unique('client')}`;
    const sub = await connect({ container_id: containerId });
    const first = receive(sub, source, 10, 'iib-build-state');
    await first.opened;
    first.link.detach();
    await quiet();
    sub.close();
    await quiet();

    const producer = await connect();
    await send(producer, `topic://${topic}`, [{ body: 1, message_id: 'away-1' }]);

    const again = await connect({ container_id: containerId });
    const r = receive(again, source, 10, 'iib-build-state');
    await until(() => r.got.length === 1, 'the message kept by the durable subscription');
    expect(r.got[0]!.message.message_id).toBe('away-1');
    r.got[0]!.delivery.accept();
    await quiet();

    // Closing (not detaching) the link ends the subscription: later messages are not kept.
    r.link.close();
    await quiet();
    again.close();
    await quiet();
    await send(producer, `topic://${topic}`, [{ body: 2, message_id: 'after-unsubscribe' }]);
    const third = await connect({ container_id: containerId });
    const r3 = receive(third, source, 10, 'iib-build-state');
    await r3.opened;
    await quiet();
    expect(r3.got).toHaveLength(0);
  });
});

describe('ActiveMQ Classic: TLS with a client certificate (amqp+ssl connector)', () => {
  const tlsOptions = (withCert: boolean): Partial<ConnectionOptions> => ({
    port: broker.amqpsPort,
    transport: 'tls',
    host: 'localhost',
    servername: 'localhost',
    ca: fs.readFileSync(pki.ca),
    ...(withCert ? { cert: fs.readFileSync(pki.clientCert), key: fs.readFileSync(pki.clientKey) } : {}),
  });

  it('when the client presents a certificate of the CA, then the connection opens and messages flow; the services connect over amqps://', async () => {
    const conn = await connect(tlsOptions(true));
    const q = `queue://${unique('tls')}`;
    expect(await send(conn, q, [{ body: 'over tls' }])).toEqual(['accepted']);

    const m = new Messaging(
      loadAmqpConfig({
        IIB_BROKER_DIALECT: 'activemq',
        IIB_AMQP_URLS: `amqps://guest:guest@localhost:${broker.amqpsPort}`,
        IIB_AMQP_CA: pki.ca,
        IIB_AMQP_CERT: pki.clientCert,
        IIB_AMQP_KEY: pki.clientKey,
      }),
      pino({ level: 'silent' }),
    );
    try {
      await m.connection.waitUp(15_000);
      await m.senderTo({ address: q }).send({ body: 'from the services' });
    } finally {
      await m.close(1000);
    }
    const r = receive(conn, q, 10);
    await until(() => r.got.length === 2, 'both messages');
  });

  it('when the client presents no certificate, then the broker refuses the TLS handshake', async () => {
    const err = await new Promise<Error | undefined>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: broker.amqpsPort,
        servername: 'localhost',
        ca: fs.readFileSync(pki.ca),
      });
      socket.once('secureConnect', () => {
        // TLS 1.3: the server's verdict on the (missing) certificate comes after the handshake.
        socket.write(Buffer.from('AMQP\x03\x01\x00\x00', 'latin1'));
      });
      socket.once('data', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', (e) => resolve(e));
      socket.once('close', () => resolve(new Error('closed by the broker')));
    });
    expect(err).toBeDefined();
    expect(err!.message).toMatch(/certificate|closed|alert|socket hang up|ECONNRESET/i);
  });
});

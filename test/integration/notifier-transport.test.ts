import * as net from 'node:net';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { startNotifier, type Notifier } from '../../services/notifier/notifier';
import { amqpPort, brokerAddress } from '../support/env';
import { subscribeAmqp10, type Amqp10Subscriber } from '../support/amqp10-subscriber';
import {
  captureLog,
  deleteNamespaceQueues,
  EventPublisher,
  notifierConfig,
  requestJson,
  uniqueId,
} from '../support/notifier-harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { createTestPki, startTlsProxy, type TestPki, type TlsProxy } from '../support/tls-proxy';

const BROKER_PORT = amqpPort;

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{
  namespace: string;
  topic: string;
  publisher: EventPublisher;
  sub: Amqp10Subscriber;
}> {
  const id = uniqueId('nt');
  const namespace = `${id}.`;
  const publisher = new EventPublisher(namespace);
  cleanups.push(async () => {
    await publisher.close();
    await deleteNamespaceQueues(namespace);
  });
  await publisher.connect();
  const topic = `VirtualTopic.${id}.iib.build.state`;
  const sub = await subscribeAmqp10(brokerAddress(`topic://${topic}`));
  cleanups.push(() => sub.close());
  return { namespace, topic, publisher, sub };
}

async function start(
  namespace: string,
  env: Record<string, string>,
  capture = captureLog(),
): Promise<Notifier> {
  const notifier = await startNotifier(notifierConfig(namespace, env), capture.log, { maxBackoffMs: 500 });
  cleanups.push(() => notifier.stop());
  return notifier;
}

describe('notifier: external broker failover', () => {
  it('when the first URL of IIB_MESSAGING_URLS does not answer, then the notifier delivers through the second', async () => {
    const { namespace, topic, publisher, sub } = await setup();
    const dead = await closedPort();
    const capture = captureLog();
    await start(
      namespace,
      {
        IIB_MESSAGING_URLS: `amqp://guest:guest@127.0.0.1:${dead},amqp://guest:guest@127.0.0.1:${BROKER_PORT}`,
        IIB_MESSAGING_BUILD_STATE_DESTINATION: `topic://${topic}`,
      },
      capture,
    );

    await publisher.publishBuild(requestJson(1, 1, 'in_progress', 'queued'), 'evt-fo-1');

    const [m] = await sub.waitForCount(1);
    expect(m!.properties?.correlationId).toBe('evt-fo-1');
    expect(capture.lines).toContainEqual(
      expect.objectContaining({ broker: 'external', msg: 'broker unreachable, retrying' }),
    );
  });

  it('when the broker in use goes away, then the notifier moves to the next URL and delivers there', async () => {
    const { namespace, topic, publisher, sub } = await setup();
    const first: TcpProxy = await startTcpProxy('127.0.0.1', BROKER_PORT);
    const second: TcpProxy = await startTcpProxy('127.0.0.1', BROKER_PORT);
    cleanups.push(
      () => first.close(),
      () => second.close(),
    );
    await second.down();
    const capture = captureLog('info');
    await start(
      namespace,
      {
        IIB_MESSAGING_URLS: `${first.url('amqp', 'guest:guest')},${second.url('amqp', 'guest:guest')}`,
        IIB_MESSAGING_BUILD_STATE_DESTINATION: `topic://${topic}`,
      },
      capture,
    );
    await publisher.publishBuild(requestJson(2, 1, 'in_progress', 'queued'), 'evt-fo-2');
    await sub.waitForCount(1);
    // The subscriber can have the message before the broker's acceptance has
    // reached the notifier; cut in between, the notifier cannot know it was
    // delivered and sends it again (at least once). Cut after the acceptance.
    await capture.waitFor(
      (l) => l.msg === 'state message sent' && l.correlationId === 'evt-fo-2',
      'the broker accepting evt-fo-2',
    );

    await second.up();
    await first.down();
    await publisher.publishBuild(requestJson(2, 1, 'complete', 'done'), 'evt-fo-3');

    await sub.waitForCount(2);
    expect(sub.messages.map((m) => m.properties?.correlationId)).toEqual(['evt-fo-2', 'evt-fo-3']);
  });
});

describe('notifier: TLS with a client certificate', () => {
  let pki: TestPki;
  let proxy: TlsProxy;

  beforeAll(async () => {
    pki = await createTestPki();
    proxy = await startTlsProxy(pki, BROKER_PORT);
  });

  afterAll(async () => {
    await proxy.close();
    fs.rmSync(pki.dir, { recursive: true, force: true });
  });

  it('when IIB_MESSAGING_CERT, KEY and CA are set with an amqps:// URL, then the handshake presents the client certificate and messages are delivered', async () => {
    const { namespace, topic, publisher, sub } = await setup();
    const capture = captureLog();
    await start(
      namespace,
      {
        IIB_MESSAGING_URLS: `amqps://guest:guest@localhost:${proxy.port}`,
        IIB_MESSAGING_BUILD_STATE_DESTINATION: `topic://${topic}`,
        IIB_MESSAGING_CERT: pki.clientCert,
        IIB_MESSAGING_KEY: pki.clientKey,
        IIB_MESSAGING_CA: pki.ca,
      },
      capture,
    );

    await publisher.publishBuild(requestJson(3, 1, 'in_progress', 'queued'), 'evt-tls-1');

    const [m] = await sub.waitForCount(1);
    expect(m!.properties?.correlationId).toBe('evt-tls-1');
    expect(proxy.acceptedClients).toContain(pki.clientName);
    expect(capture.lines).toContainEqual(
      expect.objectContaining({ msg: 'external broker', clientCertificate: true }),
    );
  });

  it('when no client certificate is configured, then the broker refuses the TLS connection', async () => {
    const { namespace, topic } = await setup();
    const accepted = proxy.acceptedClients.length;
    const refusal = proxy.nextRefusal();
    await start(namespace, {
      IIB_MESSAGING_URLS: `amqps://guest:guest@localhost:${proxy.port}`,
      IIB_MESSAGING_BUILD_STATE_DESTINATION: `topic://${topic}`,
      IIB_MESSAGING_CA: pki.ca,
    });

    const err = await refusal;
    expect(err.message).toMatch(/certificate/i);
    expect(proxy.acceptedClients.length).toBe(accepted);
  });
});

import { pythonJsonDumps } from '../../services/notifier/python-json';
import { startNotifier, type Notifier } from '../../services/notifier/notifier';
import { Names } from '../../shared/messaging';
import { subscribeAmqp10, type Amqp10Subscriber } from '../support/amqp10-subscriber';
import { activemq } from '../support/broker-admin';
import { amqpUrl, brokerAddress, brokerDialect, rabbitmqManagementUrl } from '../support/env';
import {
  captureLog,
  deleteNamespaceQueues,
  eventually,
  EventPublisher,
  notifierConfig,
  queueStats,
  requestJson,
  uniqueId,
  type CapturedLog,
} from '../support/notifier-harness';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** One test's world: its own internal queues, topics and subscribers. */
interface World {
  namespace: string;
  buildTopic: string;
  batchTopic: string;
  publisher: EventPublisher;
  capture: CapturedLog;
  notifier?: Notifier;
  subscribers: Amqp10Subscriber[];
}

const worlds: World[] = [];

async function world(): Promise<World> {
  const id = uniqueId('nf');
  const w: World = {
    namespace: `${id}.`,
    buildTopic: `VirtualTopic.${id}.iib.build.state`,
    batchTopic: `VirtualTopic.${id}.iib.batch.state`,
    publisher: new EventPublisher(`${id}.`),
    capture: captureLog(),
    subscribers: [],
  };
  worlds.push(w);
  await w.publisher.connect();
  return w;
}

async function start(w: World, env: Record<string, string>): Promise<void> {
  w.notifier = await startNotifier(notifierConfig(w.namespace, env), w.capture.log);
}

async function subscribe(w: World, topic: string): Promise<Amqp10Subscriber> {
  const s = await subscribeAmqp10(brokerAddress(`topic://${topic}`));
  w.subscribers.push(s);
  return s;
}

function destinations(w: World): Record<string, string> {
  return {
    IIB_MESSAGING_URLS: amqpUrl,
    IIB_MESSAGING_BUILD_STATE_DESTINATION: `topic://${w.buildTopic}`,
    IIB_MESSAGING_BATCH_STATE_DESTINATION: `topic://${w.batchTopic}`,
  };
}

afterEach(async () => {
  for (const w of worlds.splice(0)) {
    await w.notifier?.stop();
    for (const s of w.subscribers) await s.close();
    await w.publisher.close();
    await deleteNamespaceQueues(w.namespace);
  }
});

/**
 * The README's recipe for a subscriber whose messages wait while it is away;
 * returns the address it consumes. ActiveMQ: the virtual-topic consumer queue
 * `Consumer.<app>.<topic>`, made to exist by attaching to it once. Artemis: a
 * queue of the app's own on the topic's address (`<topic>::<app>`), likewise.
 * RabbitMQ: a durable queue bound to amq.topic with the destination's routing key.
 */
async function subscriberQueue(app: string, topic: string): Promise<string> {
  if (brokerDialect === 'activemq') {
    const address = `queue://Consumer.${app}.${topic}`;
    const once = await subscribeAmqp10(address);
    await once.close();
    await eventually(
      () => activemq.queue(`Consumer.${app}.${topic}`),
      (q) => q !== undefined,
      'the consumer queue exists',
    );
    return address;
  }
  if (brokerDialect === 'artemis') {
    // A queue of the app's own on the (multicast) address, by its fully qualified name.
    const address = `${topic}::${app}`;
    const once = await subscribeAmqp10(address);
    await once.close();
    return address;
  }
  const queue = `${app}.build-state`;
  await bindDurableQueue(queue, topic);
  return `/amq/queue/${queue}`;
}

async function bindDurableQueue(queue: string, routingKey: string): Promise<void> {
  const base = new URL(rabbitmqManagementUrl);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  const api = `${base.protocol}//${base.host}/api`;
  const put = await fetch(`${api}/queues/%2F/${encodeURIComponent(queue)}`, {
    method: 'PUT',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ durable: true }),
  });
  expect([201, 204]).toContain(put.status);
  const bind = await fetch(`${api}/bindings/%2F/e/amq.topic/q/${encodeURIComponent(queue)}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ routing_key: routingKey }),
  });
  expect(bind.status).toBe(201);
}

describe('notifier: IIB message format, read by amqp10 (not rhea)', () => {
  it('when a request changes state, then the build-state message is IIB’s: JSON string body, batch/id/state/user, content type, correlation id, durable', async () => {
    const w = await world();
    const sub = await subscribe(w, w.buildTopic);
    await start(w, destinations(w));
    const body = requestJson(41, 7, 'in_progress', 'Resolving the bundles – café ✓ 🚀');

    await w.publisher.publishBuild(body, 'evt-build-1', { traceparent: TRACEPARENT });
    const [m] = await sub.waitForCount(1);

    expect(typeof m!.body).toBe('string');
    expect(m!.body).toBe(pythonJsonDumps(body));
    expect(m!.body).toContain('"id": 41, "index_image": null');
    expect(m!.body).toContain(
      '"state_reason": "Resolving the bundles \\u2013 caf\\u00e9 \\u2713 \\ud83d\\ude80"',
    );
    expect(JSON.parse(m!.body as string)).toEqual(body);
    expect(m!.applicationProperties).toEqual({
      batch: 7,
      id: 41,
      state: 'in_progress',
      user: 'tbrady',
      traceparent: TRACEPARENT,
    });
    expect(m!.properties?.contentType).toBe('application/json');
    expect(m!.properties?.correlationId).toBe('evt-build-1');
    expect(m!.header?.durable).toBe(true);
  });

  it('when a batch changes state, then the batch-state message has exactly batch, annotations, requests[{id, organization, request_type}], state, user', async () => {
    const w = await world();
    const sub = await subscribe(w, w.batchTopic);
    await start(w, destinations(w));
    const body = {
      batch: 7,
      annotations: { jira: 'IIB-1' },
      requests: [
        { id: 41, organization: 'acme', request_type: 'add' },
        { id: 42, organization: null, request_type: 'rm' },
      ],
      state: 'complete',
      user: null,
    };

    await w.publisher.publishBatch(body, 'evt-batch-1');
    const [m] = await sub.waitForCount(1);

    expect(m!.body).toBe(
      '{"batch": 7, "annotations": {"jira": "IIB-1"}, "requests": [{"id": 41, "organization": "acme", "request_type": "add"}, ' +
        '{"id": 42, "organization": null, "request_type": "rm"}], "state": "complete", "user": null}',
    );
    expect(m!.applicationProperties).toEqual({ batch: 7, state: 'complete', user: null });
    expect(m!.properties?.contentType).toBe('application/json');
    expect(m!.properties?.correlationId).toBe('evt-batch-1');
    expect(m!.header?.durable).toBe(true);
  });

  it('when IIB_MESSAGING_DURABLE=false, then the messages are not durable', async () => {
    const w = await world();
    const sub = await subscribe(w, w.buildTopic);
    await start(w, { ...destinations(w), IIB_MESSAGING_DURABLE: 'false' });

    await w.publisher.publishBuild(requestJson(1, 1, 'in_progress', 'queued'), 'evt-nd-1');
    const [m] = await sub.waitForCount(1);

    expect(m!.header?.durable).toBeFalsy();
  });

  it('when the build-state destination is unset, then the start log says so and build events are consumed without a message, while batch messages still go out', async () => {
    const w = await world();
    const batchSub = await subscribe(w, w.batchTopic);
    const env = destinations(w);
    delete env.IIB_MESSAGING_BUILD_STATE_DESTINATION;
    await start(w, env);
    await w.capture.waitFor(
      (l) =>
        l.level === 40 &&
        l.msg === 'IIB_MESSAGING_BUILD_STATE_DESTINATION is not set: build state messages will not be sent',
      'start log about the unset build destination',
    );

    await w.publisher.publishBuild(requestJson(5, 2, 'in_progress', 'queued'), 'evt-unset-1');
    await w.capture.waitFor(
      (l) => l.msg === 'no build state destination: message not sent' && l.correlationId === 'evt-unset-1',
      'the build event consumed without a message',
    );
    await w.publisher.publishBatch(
      { batch: 2, annotations: null, requests: [], state: 'in_progress', user: 'u' },
      'evt-unset-2',
    );

    await batchSub.waitForCount(1);
    await eventually(
      () => queueStats(w.publisher.queueName(Names.buildStateEvents)),
      (s) => s.messages === 0,
      'build events queue drained',
    );
  });

  it('when IIB_MESSAGING_URLS is unset, then the start log says no state message will be sent', async () => {
    const w = await world();
    await start(w, {});

    expect(w.capture.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 50,
          msg: 'IIB_MESSAGING_URLS is not set: no state message will be sent',
        }),
        expect.objectContaining({
          msg: 'IIB_MESSAGING_BUILD_STATE_DESTINATION is not set: build state messages will not be sent',
        }),
        expect.objectContaining({
          msg: 'IIB_MESSAGING_BATCH_STATE_DESTINATION is not set: batch state messages will not be sent',
        }),
      ]),
    );
  });

  it('when an event comes twice (same id), then it is published once; a malformed event goes to the dead-letter queue and the next one still goes out', async () => {
    const w = await world();
    const sub = await subscribe(w, w.buildTopic);
    await start(w, destinations(w));

    await w.publisher.publishBuild(requestJson(9, 3, 'in_progress', 'first'), 'evt-dup-a');
    await w.publisher.publishBuild(requestJson(9, 3, 'in_progress', 'first'), 'evt-dup-a');
    await w.publisher.publishBuild({ not: 'a request' }, 'evt-bad');
    await w.publisher.publishBuild(requestJson(9, 3, 'complete', 'done'), 'evt-dup-b');
    await sub.waitForCount(2);

    // Events of one queue are handled in order: anything the duplicate or the
    // malformed event produced would have arrived before the last one.
    expect(sub.messages.map((m) => m.properties?.correlationId)).toEqual(['evt-dup-a', 'evt-dup-b']);
    await eventually(
      () => queueStats(w.publisher.queueName(Names.deadLetter)),
      (s) => s.messages === 1,
      'the malformed event dead-lettered',
    );
  });

  it('when a subscriber binds its own durable queue to the topic (README recipe), then messages sent while it is away wait for it', async () => {
    const w = await world();
    const address = await subscriberQueue(`${w.namespace}subscriber`.replace(/\./g, '-'), w.buildTopic);
    await start(w, destinations(w));

    await w.publisher.publishBuild(requestJson(12, 4, 'complete', 'done'), 'evt-durable-sub');
    await w.capture.waitFor(
      (l) => l.msg === 'state message sent' && l.correlationId === 'evt-durable-sub',
      'the message sent',
    );
    const sub = await subscribeAmqp10(address);
    w.subscribers.push(sub);

    const [m] = await sub.waitForCount(1);
    expect(m!.properties?.correlationId).toBe('evt-durable-sub');
  });
});

import { ActiveMqJolokia } from '../../shared/messaging/activemq-jolokia';
import { activemqJolokiaUrl, artemisJolokiaUrl, brokerDialect } from './env';
import * as rabbit from './rabbitmq-admin';

/**
 * What tests ask of the broker beside AMQP (queue depth, clean-up), through
 * its management interface: RabbitMQ's management API or ActiveMQ's Jolokia.
 */
export interface QueueStats {
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
}

export const activemq = new ActiveMqJolokia(activemqJolokiaUrl);

/**
 * Counters of a queue (RabbitMQ refreshes them every few seconds). On
 * ActiveMQ the logical dead-letter queue also counts the DLQ.<queue> of
 * every queue of its namespace, where the broker puts rejected messages.
 */
export async function queueStats(name: string): Promise<QueueStats> {
  if (brokerDialect === 'artemis') {
    const q = (await artemisQueues()).find((x) => x.Name === name);
    const size = q?.MessageCount ?? 0;
    const delivering = q?.DeliveringCount ?? 0;
    return { messages: size, messages_ready: size - delivering, messages_unacknowledged: delivering };
  }
  if (brokerDialect !== 'activemq') return rabbit.queueStats(name);
  const queues = name.endsWith('iib.dead-letter')
    ? (await activemq.queues()).filter(
        (q) => q.name === name || q.name.startsWith(`DLQ.${name.slice(0, -'iib.dead-letter'.length)}`),
      )
    : [await activemq.queue(name)].filter((q) => q !== undefined);
  const size = queues.reduce((n, q) => n + q.queueSize, 0);
  const inFlight = queues.reduce((n, q) => n + q.inFlight, 0);
  return { messages: size, messages_ready: size - inFlight, messages_unacknowledged: inFlight };
}

/** Deletes the queues of a test's namespace, and their DLQs (the stack's own queues are never touched). */
export async function deleteNamespaceQueues(namespace: string): Promise<void> {
  if (!namespace) return;
  if (brokerDialect === 'artemis') {
    const queues = await artemisQueues().catch(() => []);
    for (const q of queues.filter((x) => x.Name.startsWith(namespace))) {
      await artemisCall({
        type: 'exec',
        mbean: `org.apache.activemq.artemis:broker=${JSON.stringify(q.broker)}`,
        operation: 'destroyQueue(java.lang.String,boolean,boolean)',
        arguments: [q.Name, true, true],
      }).catch(() => undefined);
    }
    return;
  }
  if (brokerDialect !== 'activemq') return rabbit.deleteNamespaceQueues(namespace);
  const all = await activemq.queues().catch(() => []);
  for (const q of all.filter((x) => x.name.startsWith(namespace) || x.name.startsWith(`DLQ.${namespace}`))) {
    await activemq.removeQueue(q.name).catch(() => undefined);
  }
}

interface ArtemisQueue {
  Name: string;
  MessageCount: number;
  DeliveringCount: number;
  broker: string;
}

/** Artemis' console Jolokia API (it wants an Origin it knows and the console's credentials). */
async function artemisCall(request: Record<string, unknown>): Promise<{ status: number; value?: unknown }> {
  const u = new URL(artemisJolokiaUrl);
  const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString(
    'base64',
  );
  u.username = '';
  u.password = '';
  const res = await fetch(u.toString().replace(/\/?$/, '/'), {
    method: 'POST',
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json', origin: u.origin },
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`Artemis Jolokia at ${u.href} answered HTTP ${res.status}`);
  return (await res.json()) as { status: number; value?: unknown };
}

async function artemisQueues(): Promise<ArtemisQueue[]> {
  const r = await artemisCall({
    type: 'read',
    mbean: 'org.apache.activemq.artemis:component=addresses,subcomponent=queues,*',
    attribute: ['Name', 'MessageCount', 'DeliveringCount'],
  });
  if (r.status !== 200) return [];
  return Object.entries((r.value ?? {}) as Record<string, Omit<ArtemisQueue, 'broker'>>).map(
    ([mbean, a]) => ({
      ...a,
      broker: /broker="([^"]*)"/.exec(mbean)?.[1] ?? '',
    }),
  );
}

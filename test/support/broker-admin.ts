import { ActiveMqJolokia } from '../../shared/messaging/activemq-jolokia';
import { activemqJolokiaUrl, brokerDialect } from './env';
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
  if (brokerDialect !== 'activemq') return rabbit.deleteNamespaceQueues(namespace);
  const all = await activemq.queues().catch(() => []);
  for (const q of all.filter((x) => x.name.startsWith(namespace) || x.name.startsWith(`DLQ.${namespace}`))) {
    await activemq.removeQueue(q.name).catch(() => undefined);
  }
}

import { rabbitmqManagementUrl } from './env';

/** The RabbitMQ management API, for tests that look at or clean up the broker's queues. */
export interface QueueStats {
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
}

export async function management(path: string, method = 'GET'): Promise<Response> {
  const base = new URL(rabbitmqManagementUrl);
  const auth = Buffer.from(
    `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`,
  ).toString('base64');
  base.username = '';
  base.password = '';
  const url = new URL(path, base.toString().replace(/\/?$/, '/'));
  return fetch(url, {
    method,
    headers: { authorization: `Basic ${auth}` },
    signal: AbortSignal.timeout(5000),
  });
}

/** RabbitMQ's counters for a queue (refreshed by the broker every few seconds). */
export async function queueStats(name: string): Promise<QueueStats> {
  const res = await management(`api/queues/%2F/${encodeURIComponent(name)}`);
  if (res.status !== 200) throw new Error(`queue ${name}: HTTP ${res.status}`);
  const q = (await res.json()) as Partial<QueueStats>;
  return {
    messages: q.messages ?? 0,
    messages_ready: q.messages_ready ?? 0,
    messages_unacknowledged: q.messages_unacknowledged ?? 0,
  };
}

/** Deletes the queues of a test's namespace (the stack's own queues are never touched). */
export async function deleteNamespaceQueues(namespace: string): Promise<void> {
  if (!namespace) return;
  const res = await management('api/queues/%2F');
  if (res.status !== 200) return;
  const queues = (await res.json()) as { name: string }[];
  for (const q of queues.filter((x) => x.name.startsWith(namespace))) {
    await management(`api/queues/%2F/${encodeURIComponent(q.name)}`, 'DELETE');
  }
}

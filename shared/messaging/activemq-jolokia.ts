/**
 * ActiveMQ Classic's queues through its Jolokia REST API (JMX over HTTP):
 * the web console's `/api/jolokia` in the broker image, the Jolokia JVM agent
 * in the local stack. What `npm run lanes` and the tests read on ActiveMQ, as
 * they read RabbitMQ's management API.
 */

export interface ActiveMqQueue {
  name: string;
  /** Messages in the queue, including those dispatched and not yet acknowledged. */
  queueSize: number;
  /** Dispatched to a consumer, not yet acknowledged. */
  inFlight: number;
  consumers: number;
}

interface JolokiaResponse {
  status: number;
  value?: unknown;
  error?: string;
}

const BROKER = 'org.apache.activemq:type=Broker,brokerName=iib';

export class ActiveMqJolokia {
  private readonly endpoint: string;
  private readonly headers: Record<string, string>;

  /** `url`: e.g. `http://admin:admin@broker:8161/api/jolokia` (credentials optional). */
  constructor(url: string) {
    const u = new URL(url);
    this.headers = { 'content-type': 'application/json' };
    if (u.username) {
      const auth = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
      this.headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
      u.username = '';
      u.password = '';
    }
    this.endpoint = u.toString().replace(/\/?$/, '/');
    // The web console refuses requests without an Origin it knows (CORS strict checking).
    this.headers.origin = `${u.protocol}//${u.host}`;
  }

  private async call(request: Record<string, unknown>): Promise<JolokiaResponse> {
    let res: Response;
    try {
      res = await fetch(this.endpoint, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      throw new Error(`ActiveMQ Jolokia API not reachable at ${this.endpoint}: ${cause ?? String(err)}`, {
        cause: err,
      });
    }
    if (!res.ok) throw new Error(`ActiveMQ Jolokia API at ${this.endpoint} answered HTTP ${res.status}`);
    return (await res.json()) as JolokiaResponse;
  }

  /** Every queue of the broker whose name starts with `prefix`. */
  async queues(prefix = ''): Promise<ActiveMqQueue[]> {
    const r = await this.call({
      type: 'read',
      mbean: `${BROKER},destinationType=Queue,destinationName=*`,
      attribute: ['Name', 'QueueSize', 'InFlightCount', 'ConsumerCount'],
    });
    if (r.status === 404) return [];
    if (r.status !== 200) throw new Error(`Jolokia read of the queues failed: ${r.error ?? r.status}`);
    const beans = (r.value ?? {}) as Record<string, Record<string, unknown>>;
    return Object.values(beans)
      .map((a) => ({
        name: String(a.Name),
        queueSize: Number(a.QueueSize ?? 0),
        inFlight: Number(a.InFlightCount ?? 0),
        consumers: Number(a.ConsumerCount ?? 0),
      }))
      .filter((q) => q.name.startsWith(prefix));
  }

  /** One queue; undefined when the broker has none of that name. */
  async queue(name: string): Promise<ActiveMqQueue | undefined> {
    return (await this.queues(name)).find((q) => q.name === name);
  }

  /**
   * Milliseconds since epoch at which the oldest message still in the queue
   * was sent (its JMSTimestamp, from a browse of the queue's head); undefined
   * when the queue is empty.
   */
  async oldestMessageTime(name: string): Promise<number | undefined> {
    const r = await this.call({
      type: 'exec',
      mbean: `${BROKER},destinationType=Queue,destinationName=${name}`,
      operation: 'browse()',
      arguments: [],
    });
    if (r.status !== 200 || !Array.isArray(r.value)) return undefined;
    const times = (r.value as Record<string, unknown>[])
      .map((m) => m.JMSTimestamp)
      .map((t) => (typeof t === 'string' ? Date.parse(t) : typeof t === 'number' ? t : NaN))
      .filter((t) => Number.isFinite(t) && t > 0);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  async removeQueue(name: string): Promise<void> {
    const r = await this.call({ type: 'exec', mbean: BROKER, operation: 'removeQueue', arguments: [name] });
    if (r.status !== 200) throw new Error(`removeQueue ${name} failed: ${r.error ?? r.status}`);
  }
}

import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { loadNotifierConfig, type NotifierConfig } from '../../shared/config';
import { Messaging, Names, type AmqpSender } from '../../shared/messaging';
import { amqpUrl, brokerEnv } from './env';

/** A short unique id: queue namespace, topic names and ids of one test. */
export { deleteNamespaceQueues, queueStats, type QueueStats } from './broker-admin';

export function uniqueId(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/**
 * A notifier configuration for one test: its own internal queue namespace
 * (so it never takes the stack's events), the test broker as the internal
 * one, and the given IIB_MESSAGING_* keys.
 */
export function notifierConfig(namespace: string, messagingEnv: Record<string, string>): NotifierConfig {
  return loadNotifierConfig({
    ...brokerEnv(namespace),
    IIB_AMQP_SEND_TIMEOUT_MS: '5000',
    IIB_MESSAGING_TIMEOUT: '1',
    ...messagingEnv,
  });
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger whose lines the test reads. */
export interface CapturedLog {
  log: Logger;
  lines: LogLine[];
  /** Resolves with the first line matching, now or later. */
  waitFor(pred: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
}

export function captureLog(level = 'debug'): CapturedLog {
  const lines: LogLine[] = [];
  const listeners = new Set<() => void>();
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString().split('\n')) {
        if (text.trim()) lines.push(JSON.parse(text) as LogLine);
      }
      for (const l of [...listeners]) l();
      done();
    },
  });
  const log = pino({ level }, stream);
  return {
    log,
    lines,
    waitFor: (pred, what, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find(pred);
          if (!found) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no log line: ${what}\n${lines.map((l) => JSON.stringify(l)).join('\n')}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
  };
}

/**
 * Plays the gateway's outbox relay: publishes internal state events to the
 * namespace's iib.events.* queues, as the relay does (message id, trace
 * context in the application properties).
 */
export class EventPublisher {
  private readonly messaging: Messaging;
  private build: AmqpSender | undefined;
  private batch: AmqpSender | undefined;

  constructor(namespace: string) {
    const config = notifierConfig(namespace, {});
    this.messaging = new Messaging(config.amqp, pino({ level: 'silent' }));
  }

  async connect(): Promise<void> {
    try {
      await this.messaging.connection.waitUp(10_000);
    } catch {
      throw new Error(`AMQP broker not reachable at ${amqpUrl}: run \`npm run stack\``);
    }
    this.build = await this.messaging.queueSender(Names.buildStateEvents);
    this.batch = await this.messaging.queueSender(Names.batchStateEvents);
  }

  async publishBuild(body: object, messageId: string, extra: Record<string, string> = {}): Promise<void> {
    const b = body as { batch?: number; id?: number; state?: string; user?: string | null };
    await this.build!.send({
      body,
      messageId,
      applicationProperties: {
        batch: b.batch ?? null,
        id: b.id ?? null,
        state: b.state ?? null,
        user: b.user ?? null,
        ...extra,
      },
    });
  }

  async publishBatch(body: object, messageId: string, extra: Record<string, string> = {}): Promise<void> {
    await this.batch!.send({ body, messageId, applicationProperties: { ...extra } });
  }

  /** The broker-side name of an internal queue of this namespace. */
  queueName(logical: string): string {
    return this.messaging.queueName(logical);
  }

  async close(): Promise<void> {
    await this.messaging.close(1000);
  }
}

/** Polls an async condition; fails with `what` when it does not hold within timeoutMs. */
export async function eventually<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A request's non-verbose JSON, as the gateway writes it into build-state events. */
export function requestJson(
  id: number,
  batch: number,
  state: string,
  reason: string,
  user: string | null = 'tbrady',
): object {
  return {
    arches: ['amd64', 's390x'],
    batch,
    binary_image: 'quay.io/ns/binary:latest',
    binary_image_resolved: null,
    bundle_mapping: {},
    bundles: ['quay.io/ns/bundle:1.0'],
    distribution_scope: null,
    from_index: null,
    id,
    index_image: null,
    organization: null,
    removed_operators: [],
    request_type: 'add',
    state,
    state_reason: reason,
    updated: '2026-11-21T05:00:00.000000Z',
    user,
  };
}

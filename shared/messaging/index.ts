import type { Logger } from 'pino';
import type { AmqpConfig } from '../config';
import { AmqpConnection, ConnectionSettings } from './connection';
import { AmqpConsumer, ConsumerOptions, Handler } from './consumer';
import { Dialect, getDialect, QueueOptions, Terminus } from './dialect';
import type { InboundMessage, PropertyValue } from './message';
import { QueueProvisioner } from './provisioner';
import { Names } from './names';
import { AmqpSender } from './sender';

export { AmqpConnection, parseAmqpUrl } from './connection';
export type { ConnectionSettings } from './connection';
export { AmqpConsumer, isRetryable } from './consumer';
export type { ConsumerOptions, Handler } from './consumer';
export { getDialect } from './dialect';
export type { Dialect, QueueOptions, Terminus } from './dialect';
export type { InboundMessage, OutboundMessage, PropertyValue } from './message';
export { Names, DEFAULT_LANE, laneQueue, isSerialLaneQueue } from './names';
export { QueueProvisioner } from './provisioner';
export { AmqpSender } from './sender';
export type { SendOptions } from './sender';
export { sendBatch, type BatchMessage } from './batch-span';

/**
 * A service's view of the broker: logical names in, dialect addresses out,
 * queues declared before first use, one sender per address.
 */
export class Messaging {
  readonly dialect: Dialect;
  readonly connection: AmqpConnection;
  private readonly provisioner: QueueProvisioner;
  private readonly senders = new Map<string, AmqpSender>();
  private readonly consumers: ConsumerHandle[] = [];

  constructor(
    private readonly config: AmqpConfig,
    private readonly log: Logger,
    settings: Partial<ConnectionSettings> = {},
  ) {
    this.dialect = getDialect(config.dialect);
    this.provisioner = new QueueProvisioner(
      this.dialect,
      config.rabbitmqManagementUrl,
      config.namespace,
      (f, m) => log.warn(f, m),
    );
    this.connection = new AmqpConnection(
      { urls: config.urls, ca: config.ca, cert: config.cert, key: config.key, ...settings },
      log,
    );
  }

  /** The broker-side name of a logical queue (the namespace prepended). */
  queueName(name: string): string {
    return `${this.config.namespace}${name}`;
  }

  ensureQueue(name: string, options: QueueOptions = {}): Promise<void> {
    return this.provisioner.ensure(this.queueName(name), options);
  }

  /** A sender to a logical queue; the queue is declared first where the broker needs it. */
  async queueSender(name: string, options: QueueOptions = {}): Promise<AmqpSender> {
    await this.ensureQueue(name, options);
    return this.senderTo(this.dialect.queueTarget(this.queueName(name)));
  }

  /**
   * The sender to a logical queue already declared, without a promise; undefined
   * until `queueSender` has declared it. For per-message paths: every promise
   * costs an async hook per stage while tracing's context propagation is on
   * (Node.js before 24), so `readySender(q) ?? (await queueSender(q))`.
   */
  readySender(name: string): AmqpSender | undefined {
    const queue = this.queueName(name);
    if (!this.provisioner.isEnsured(queue)) return undefined;
    return this.senderTo(this.dialect.queueTarget(queue));
  }

  senderTo(target: Terminus): AmqpSender {
    const key = `${target.address}|${(target.capabilities ?? []).join(',')}`;
    let sender = this.senders.get(key);
    if (!sender) {
      sender = new AmqpSender(this.connection, target, this.log, this.config.sendTimeoutMs);
      this.senders.set(key, sender);
    }
    return sender;
  }

  /**
   * Consumes a logical queue. Declaring the queue is retried in the
   * background until the broker answers, so a service starts (and serves
   * HTTP, say) while the broker is away.
   */
  consumeQueue(
    name: string,
    handler: Handler,
    options: Omit<ConsumerOptions, 'maxDeliveries'> & Partial<Pick<ConsumerOptions, 'maxDeliveries'>>,
    queueOptions: QueueOptions = {},
  ): ConsumerHandle {
    const handle = new ConsumerHandle();
    const attach = async (): Promise<void> => {
      for (let attempt = 0; !handle.stopped; attempt += 1) {
        try {
          await this.ensureQueue(name, queueOptions);
          break;
        } catch (err) {
          if (attempt === 0) this.log.warn({ queue: name, err }, 'cannot declare queue yet, retrying');
          await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
        }
      }
      if (handle.stopped) return;
      handle.attach(
        new AmqpConsumer(
          this.connection,
          this.dialect.queueSource(this.queueName(name), queueOptions),
          handler,
          {
            maxDeliveries: this.config.maxDeliveries,
            countBrokerDeliveries: name !== Names.deadLetter,
            forwardDeadLetter:
              this.dialect.forwardsDeadLetters && name !== Names.deadLetter
                ? (message, reason) => this.forwardDeadLetter(name, message, reason)
                : undefined,
            ...options,
          },
          this.log,
        ),
      );
    };
    void attach();
    this.consumers.push(handle);
    return handle;
  }

  /** A copy of a dead letter on the logical dead-letter queue, saying where it came from and why. */
  private async forwardDeadLetter(
    origin: string,
    message: InboundMessage,
    reason: { condition: string; description: string },
  ): Promise<void> {
    const sender = await this.queueSender(Names.deadLetter);
    await sender.send({
      body: message.body,
      messageId: message.messageId,
      correlationId: message.correlationId,
      subject: message.subject,
      applicationProperties: {
        ...(message.applicationProperties as Record<string, PropertyValue>),
        iib_dead_letter_origin: this.queueName(origin),
        iib_dead_letter_condition: reason.condition,
        iib_dead_letter_reason: reason.description.slice(0, 1000),
      },
    });
  }

  /** Stops every consumer (finishing in-flight work), then closes the connection. */
  async close(graceMs = 30_000): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop(graceMs)));
    for (const s of this.senders.values()) s.close();
    await this.connection.close();
  }
}

/** A consumer that may still be waiting for its queue to be declared. */
export class ConsumerHandle {
  stopped = false;
  private consumer: AmqpConsumer | undefined;
  private readonly waiters: ((c: AmqpConsumer) => void)[] = [];

  attach(consumer: AmqpConsumer): void {
    this.consumer = consumer;
    this.waiters.splice(0).forEach((w) => w(consumer));
  }

  /** Resolves once the receiver link exists. */
  ready(): Promise<AmqpConsumer> {
    if (this.consumer) return Promise.resolve(this.consumer);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get busy(): number {
    return this.consumer?.busy ?? 0;
  }

  pause(): void {
    this.consumer?.pause();
  }

  async stop(graceMs = 30_000): Promise<void> {
    this.stopped = true;
    await this.consumer?.stop(graceMs);
  }
}

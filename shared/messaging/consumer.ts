import { context, Context } from '@opentelemetry/api';
import type { Delivery, EventContext, Receiver } from 'rhea';
import type { Logger } from 'pino';
import { errorMessage } from '../errors';
import type { AmqpConnection } from './connection';
import type { Terminus } from './dialect';
import { fromAmqp, InboundMessage } from './message';

export type Handler = (message: InboundMessage) => Promise<void>;

interface Waiting {
  delivery: Delivery;
  message: InboundMessage;
  epoch: number;
  /** The context the message arrived in (its process span): the handler runs in it. */
  ctx: Context;
}

export interface ConsumerOptions {
  /** Messages handled at once; also the link credit, so nothing waits unseen in this process. */
  concurrency: number;
  /** After this many deliveries a failing message is rejected (dead-lettered). */
  maxDeliveries: number;
  /** Delay before a retryable failure is released, doubled per delivery. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /**
   * Keep a message whose handler fails with a retryable error and call the
   * handler again (with the same backoff) until it succeeds, instead of
   * giving it back to the broker. For a consumer whose dependency may be away
   * for any length of time (the recorder and PostgreSQL): the message is never
   * dead-lettered for a transient cause, and messages held for one key keep
   * their order. The message goes back to the broker only when the consumer
   * stops or its connection drops.
   */
  retryInPlace?: boolean;
  /**
   * Whether the broker's delivery count counts toward maxDeliveries (default
   * true). A message that arrives already delivered maxDeliveries times (its
   * consumers died holding it: ActiveMQ counts those in the AMQP
   * delivery-count) is rejected to the dead-letter address unhandled. Off for
   * the dead-letter queue itself, whose messages arrive with the count that
   * sent them there.
   */
  countBrokerDeliveries?: boolean;
  /**
   * For brokers that do not route a rejected message to the system's
   * dead-letter queue (Artemis sends it to one broker-wide DLQ address): the
   * consumer sends it there itself and accepts it once the broker accepted
   * the copy (a failed copy releases the original instead).
   */
  forwardDeadLetter?: (
    message: InboundMessage,
    reason: { condition: string; description: string },
  ) => Promise<void>;
}

/** A handler error that says whether the same message may succeed later. */
export function isRetryable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true;
}

/**
 * A receiver with manual settlement and bounded credit. Success accepts; a
 * retryable failure is released (after a backoff, with delivery_failed so
 * the broker counts it); any other failure, or a message past its delivery
 * limit, is rejected, which sends it to the dead-letter address.
 */
export class AmqpConsumer {
  private readonly link: Receiver;
  private inFlight = 0;
  private readonly waiting: Waiting[] = [];
  private paused = false;
  private stopping = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** Local delivery counts, for brokers that do not count redeliveries. */
  private readonly seen = new Map<string, number>();
  /** Wakes handlers waiting to retry in place when the consumer stops. */
  private wakeRetries: (() => void)[] = [];

  constructor(
    private readonly conn: AmqpConnection,
    readonly source: Terminus,
    private readonly handler: Handler,
    private readonly options: ConsumerOptions,
    private readonly log: Logger,
  ) {
    this.link = conn.connection.open_receiver({
      source: { address: source.address, capabilities: source.capabilities },
      autoaccept: false,
      credit_window: 0,
    });
    this.link.on('receiver_open', () => this.topUp());
    this.link.on('receiver_error', (ctx: EventContext) =>
      this.log.error({ address: source.address, err: ctx.receiver?.error }, 'receiver link error'),
    );
    this.link.on('message', (ctx: EventContext) => this.onMessage(ctx));
  }

  private topUp(): void {
    if (this.paused || !this.conn.up) return;
    const credit = (this.link as unknown as { credit: number }).credit;
    const want = this.options.concurrency - this.inFlight - this.waiting.length - credit;
    if (want > 0) this.link.add_credit(want);
  }

  private onMessage(ctx: EventContext): void {
    const delivery = ctx.delivery;
    const raw = ctx.message;
    if (!delivery || !raw) return;
    // Some brokers (RabbitMQ 3.x's AMQP 1.0 plugin) deliver past the link
    // credit, so the handler limit is enforced here, in arrival order.
    this.waiting.push({ delivery, message: fromAmqp(raw), epoch: this.conn.epoch, ctx: context.active() });
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift() as Waiting;
      if (next.epoch !== this.conn.epoch) continue; // the broker redelivers it
      const key = next.message.messageId;
      const localCount = key ? (this.seen.get(key) ?? 0) : 0;
      const brokerCount = this.options.countBrokerDeliveries === false ? 0 : next.message.deliveryCount;
      const deliveries = Math.max(brokerCount, localCount) + 1;
      if (brokerCount >= this.options.maxDeliveries) {
        // Delivered maxDeliveries times already, each to a consumer that went
        // away without settling it: one more attempt would break the limit.
        this.log.error(
          { address: this.source.address, deliveries: brokerCount, messageId: key },
          'delivery limit reached; message rejected to the dead-letter address',
        );
        this.deadLetter(next.message, next.delivery, next.epoch, {
          condition: 'iib:delivery-limit',
          description: `delivered ${brokerCount} times without being settled`,
        });
        continue;
      }
      this.inFlight += 1;
      // then(done, done), not finally(done): finally costs two more promises per message.
      void context
        .with(next.ctx, () => this.handle(next.message, next.delivery, next.epoch, deliveries))
        .then(this.handled, this.handled);
    }
  }

  private readonly handled = (): void => {
    this.inFlight -= 1;
    this.pump();
    this.topUp();
    if (this.inFlight === 0 && this.waiting.length === 0) this.idleWaiters.splice(0).forEach((w) => w());
  };

  private async handle(
    message: InboundMessage,
    delivery: Delivery,
    epoch: number,
    deliveries: number,
  ): Promise<void> {
    const settle = (fn: () => void): void => {
      // A delivery from an earlier connection is gone: the broker redelivers it.
      if (epoch !== this.conn.epoch || !this.conn.up) return;
      fn();
    };
    try {
      await this.runHandler(message, epoch);
      if (message.messageId) this.seen.delete(message.messageId);
      settle(() => delivery.accept());
    } catch (err) {
      const retryable = isRetryable(err);
      const reason = errorMessage(err);
      if (retryable && this.stopping) {
        // Given up because this consumer is stopping: not a failure of the
        // message, so it goes back at once and its delivery count is untouched
        // (a handler that holds a message through an outage must not move it
        // toward the dead-letter address with every restart).
        settle(() => delivery.release());
        return;
      }
      if (retryable && deliveries < this.options.maxDeliveries) {
        if (message.messageId) this.remember(message.messageId, deliveries);
        const base = this.options.retryBaseDelayMs ?? 500;
        const delay = Math.min(this.options.retryMaxDelayMs ?? 15_000, base * 2 ** (deliveries - 1));
        this.log.warn({ address: this.source.address, deliveries, delay, err }, 'handler failed, will retry');
        await new Promise((r) => setTimeout(r, delay));
        settle(() => delivery.modified({ delivery_failed: true, undeliverable_here: false }));
      } else {
        if (message.messageId) this.seen.delete(message.messageId);
        this.log.error(
          { address: this.source.address, deliveries, err, messageId: message.messageId },
          'message rejected to the dead-letter address',
        );
        this.deadLetter(message, delivery, epoch, {
          condition: retryable ? 'iib:delivery-limit' : 'iib:invalid-message',
          description: reason,
        });
      }
    }
  }

  /** The handler, called again in place while it fails retryably (retryInPlace), until it succeeds or the consumer stops. */
  private async runHandler(message: InboundMessage, epoch: number): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.handler(message);
        return;
      } catch (err) {
        if (!this.options.retryInPlace || !isRetryable(err) || this.stopping || epoch !== this.conn.epoch) {
          throw err;
        }
        const base = this.options.retryBaseDelayMs ?? 500;
        const delay = Math.min(this.options.retryMaxDelayMs ?? 15_000, base * 2 ** Math.min(attempt - 1, 20));
        if (attempt === 1 || attempt % 10 === 0) {
          this.log.warn(
            { address: this.source.address, attempt, delay, err },
            'handler failed, holding the message and retrying',
          );
        }
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            this.wakeRetries = this.wakeRetries.filter((w) => w !== done);
            resolve();
          };
          const timer = setTimeout(done, delay);
          this.wakeRetries.push(done);
        });
        if (this.stopping || epoch !== this.conn.epoch) throw err;
      }
    }
  }

  /** Rejects to the broker's dead-letter address, or forwards to ours where the broker has none. */
  private deadLetter(
    message: InboundMessage,
    delivery: Delivery,
    epoch: number,
    reason: { condition: string; description: string },
  ): void {
    const live = (): boolean => epoch === this.conn.epoch && this.conn.up;
    const forward = this.options.forwardDeadLetter;
    if (!forward) {
      if (live()) delivery.reject(reason);
      return;
    }
    void forward(message, reason).then(
      () => {
        if (live()) delivery.accept();
      },
      (err: unknown) => {
        this.log.warn({ err }, 'dead letter not forwarded; message released');
        if (live()) delivery.release();
      },
    );
  }

  private remember(key: string, count: number): void {
    this.seen.set(key, count);
    if (this.seen.size > 10_000) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  /** Stops taking new messages; in-flight ones go on. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.topUp();
  }

  get busy(): number {
    return this.inFlight;
  }

  /** Stops intake and waits (up to graceMs) for in-flight handlers, then detaches. */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopping = true;
    this.pause();
    this.wakeRetries.splice(0).forEach((wake) => wake());
    // Not started yet: give them back now so another consumer can take them.
    for (const w of this.waiting.splice(0)) {
      if (w.epoch === this.conn.epoch && this.conn.up) w.delivery.release();
    }
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise<void>((r) => setTimeout(r, graceMs).unref()),
      ]);
    }
    // Closing the link returns anything unsettled (and unused credit) to the broker.
    this.link.close();
  }
}

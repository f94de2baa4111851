import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { FinalStateEvent, isFinal, StateQuery } from '../../../shared/contracts';
import { AmqpConsumer, AmqpSender, Messaging, Names } from '../../../shared/messaging';

/**
 * The ids of requests known to be final, learnt from the final-state topic
 * (every builder and the scheduler's attempts limit publish to it). A lane
 * message that comes back after its request ended (its builder died between
 * reporting and settling) is then settled without building again. Bounded:
 * redeliveries follow the final state closely, so recent ids are enough.
 */
export class FinalStates {
  private readonly ids = new Map<number, string>();
  private consumer: AmqpConsumer | undefined;
  private sender: AmqpSender | undefined;
  private querySender: AmqpSender | undefined;
  /** Open state queries by key. */
  private readonly waiting = new Map<string, (state: string) => void>();

  constructor(
    private readonly messaging: Messaging,
    private readonly log: Logger,
    private readonly limit = 50_000,
  ) {}

  /** Subscribes (non-durably: only finals from now on matter). */
  start(): void {
    const topic = this.messaging.dialect.topicTarget(this.messaging.queueName(Names.finalStates));
    this.consumer = new AmqpConsumer(
      this.messaging.connection,
      topic,
      (message) => {
        // A malformed announcement only costs a rebuild: skipped, never dead-lettered.
        const parsed = FinalStateEvent.safeParse(message.body);
        if (parsed.success) {
          const e = parsed.data;
          this.remember(e.request_id, e.state);
          if (typeof e.answer_to === 'string') this.waiting.get(e.answer_to)?.(e.state);
          this.log.debug({ requestId: e.request_id, state: e.state }, 'final state learnt');
        }
        return Promise.resolve();
      },
      { concurrency: 100, maxDeliveries: 1 },
      this.log,
    );
  }

  stateOf(requestId: number): string | undefined {
    return this.ids.get(requestId);
  }

  /**
   * The request's state as recorded by the gateway, asked on
   * `iib.state-updates` behind every update already sent for it (see
   * StateQuery), so a result reported by a builder that died before settling
   * its lane message is seen here. Undefined when no answer comes within
   * `timeoutMs` (gateway or broker away): the caller then builds, and the
   * recorder keeps the first final result whatever a rebuild reports.
   */
  async recordedState(requestId: number, builder: string, timeoutMs: number): Promise<string | undefined> {
    const known = this.stateOf(requestId);
    if (known) return known;
    const query: StateQuery = {
      kind: 'state-query',
      key: randomUUID(),
      request_id: requestId,
      builder,
      at: new Date().toISOString(),
    };
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<string | undefined>((resolve) => {
      this.waiting.set(query.key, resolve);
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const ask = async (): Promise<never> => {
      this.querySender ??= await this.messaging.queueSender(Names.stateUpdates);
      await this.querySender.send({ body: query, durable: false });
      return new Promise<never>(() => undefined);
    };
    try {
      return await Promise.race([answered, ask()]);
    } catch (err) {
      this.log.warn({ requestId, err }, 'state query not sent');
      return undefined;
    } finally {
      clearTimeout(timer);
      this.waiting.delete(query.key);
    }
  }

  remember(requestId: number, state: string): void {
    if (!isFinal(state)) return;
    this.ids.set(requestId, state);
    if (this.ids.size > this.limit) {
      const oldest = this.ids.keys().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }

  /** Tells every builder; a lost announcement only costs a rebuild of an ended request, so errors are logged. */
  async announce(event: FinalStateEvent): Promise<void> {
    this.remember(event.request_id, event.state);
    this.sender ??= this.messaging.senderTo(
      this.messaging.dialect.topicTarget(this.messaging.queueName(Names.finalStates)),
    );
    await this.sender
      .send({ body: event, applicationProperties: { request_id: event.request_id, state: event.state } })
      .catch((err: unknown) =>
        this.log.warn({ requestId: event.request_id, err }, 'final state not announced'),
      );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop(0);
  }
}

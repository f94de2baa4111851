import type { Delivery, EventContext, Sender } from 'rhea';
import type { Logger } from 'pino';
import { DependencyError } from '../errors';
import type { AmqpConnection } from './connection';
import type { Terminus } from './dialect';
import { OutboundMessage, toAmqp } from './message';

export interface SendOptions {
  /**
   * Gives up waiting for the broker's credit (e.g. at shutdown while the
   * broker is away). Once the message is on the wire it waits for its outcome.
   */
  signal?: AbortSignal;
}

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A sender whose send() resolves only once the broker has accepted the
 * message, and rejects on rejected / released / modified, on a timeout and
 * when the connection drops before the outcome arrives. Callers treat a
 * rejection as "not sent" and keep the message (outbox, unsettled input).
 */
export class AmqpSender {
  private readonly link: Sender;
  private readonly pending = new Map<Delivery, Pending>();
  /** Sends waiting for credit; close() fails them instead of leaving them to time out. */
  private readonly waiting = new Set<(err: Error) => void>();
  private closed = false;

  constructor(
    private readonly conn: AmqpConnection,
    readonly target: Terminus,
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {
    this.link = conn.connection.open_sender({
      target: { address: target.address, capabilities: target.capabilities },
      autosettle: true,
    });
    // Every send waiting for credit listens for 'sendable' (a handler's worth
    // at once, bounded by the consumers' concurrency): not a leak.
    this.link.setMaxListeners(0);
    const settle = (ctx: EventContext, err?: Error): void => {
      const delivery = ctx.delivery;
      if (!delivery) return;
      const p = this.pending.get(delivery);
      if (!p) return;
      this.pending.delete(delivery);
      clearTimeout(p.timer);
      if (err) p.reject(err);
      else p.resolve();
    };
    this.link.on('accepted', (ctx: EventContext) => settle(ctx));
    this.link.on('rejected', (ctx: EventContext) =>
      settle(
        ctx,
        new DependencyError(`broker rejected the message to ${target.address}: ${describe(ctx)}`, {
          retryable: false,
        }),
      ),
    );
    this.link.on('released', (ctx: EventContext) =>
      settle(
        ctx,
        new DependencyError(`broker released the message to ${target.address}`, { retryable: true }),
      ),
    );
    this.link.on('modified', (ctx: EventContext) =>
      settle(
        ctx,
        new DependencyError(`broker returned the message to ${target.address} modified`, { retryable: true }),
      ),
    );
    this.link.on('sender_error', (ctx: EventContext) => {
      this.log.error({ address: target.address, err: ctx.sender?.error }, 'sender link error');
      this.failAll('sender link closed by the broker');
    });
    conn.on('down', () => this.failAll('connection to the broker lost before the outcome arrived'));
  }

  get address(): string {
    return this.target.address;
  }

  send(message: OutboundMessage, options: SendOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    // With credit (the usual case) the message goes out now: one promise, not
    // four; each costs async hooks while tracing propagates context.
    if (this.conn.up && this.link.sendable() && !options.signal?.aborted) return this.transfer(message);
    return this.waitSendable(options.signal).then(() =>
      this.closed ? Promise.reject(closedError()) : this.transfer(message),
    );
  }

  private transfer(message: OutboundMessage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const delivery = this.link.send(toAmqp(message));
      const timer = setTimeout(() => {
        this.pending.delete(delivery);
        reject(
          new DependencyError(`no outcome from the broker within ${this.timeoutMs} ms`, { retryable: true }),
        );
      }, this.timeoutMs);
      this.pending.set(delivery, { resolve, reject, timer });
    });
  }

  private waitSendable(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(aborted(this.target.address));
    if (this.conn.up && this.link.sendable()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onSendable = (): void => {
        if (!this.link.sendable()) return;
        cleanup();
        resolve();
      };
      const fail = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const onAbort = (): void => fail(aborted(this.target.address));
      const timer = setTimeout(
        () =>
          fail(
            new DependencyError(
              `broker not accepting messages for ${this.target.address} (waited ${this.timeoutMs} ms)`,
              {
                retryable: true,
              },
            ),
          ),
        this.timeoutMs,
      );
      const cleanup = (): void => {
        clearTimeout(timer);
        this.link.removeListener('sendable', onSendable);
        signal?.removeEventListener('abort', onAbort);
        this.waiting.delete(fail);
      };
      this.link.on('sendable', onSendable);
      signal?.addEventListener('abort', onAbort);
      this.waiting.add(fail);
    });
  }

  private failAll(reason: string): void {
    for (const [delivery, p] of this.pending) {
      this.pending.delete(delivery);
      clearTimeout(p.timer);
      p.reject(new DependencyError(reason, { retryable: true }));
    }
  }

  close(): void {
    this.closed = true;
    for (const fail of [...this.waiting]) fail(new DependencyError('sender closed', { retryable: true }));
    this.failAll('sender closed');
    this.link.close();
  }
}

function closedError(): DependencyError {
  return new DependencyError('sender is closed', { retryable: true });
}

function aborted(address: string): DependencyError {
  return new DependencyError(`send to ${address} abandoned before it reached the broker`, {
    retryable: true,
  });
}

function describe(ctx: EventContext): string {
  const state = ctx.delivery?.remote_state as
    { error?: { condition?: string; description?: string } } | undefined;
  const e = state?.error;
  return e ? `${e.condition ?? ''} ${e.description ?? ''}`.trim() : 'no reason given';
}

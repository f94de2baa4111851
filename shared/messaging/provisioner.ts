import { DependencyError } from '../errors';
import type { Dialect, QueueOptions } from './dialect';
import { Names } from './names';

/**
 * Declares queues where the broker needs it before use (RabbitMQ), with the
 * arguments a plain AMQP 1.0 attach cannot express: single active consumer
 * for serial lanes and the dead-letter route. Other brokers create queues on
 * first use, so this is a no-op for them.
 */
export class QueueProvisioner {
  private readonly done = new Map<string, Promise<void>>();
  /** Queues whose declaration has succeeded: the hot path asks this without a promise. */
  private readonly declared = new Set<string>();

  constructor(
    private readonly dialect: Dialect,
    private readonly managementUrl: string,
    private readonly namespace = '',
    private readonly warn: (fields: Record<string, unknown>, msg: string) => void = () => undefined,
  ) {}

  private get deadLetter(): string {
    return `${this.namespace}${Names.deadLetter}`;
  }

  ensure(name: string, options: QueueOptions = {}): Promise<void> {
    if (!this.dialect.needsProvisioning) return Promise.resolve();
    let p = this.done.get(name);
    if (!p) {
      p = this.declare(name, options).then(
        () => {
          this.declared.add(name);
        },
        (err: unknown) => {
          this.done.delete(name);
          throw err;
        },
      );
      this.done.set(name, p);
    }
    return p;
  }

  /** Whether `name` is known to exist (declared by this process, or no declaration needed). */
  isEnsured(name: string): boolean {
    return !this.dialect.needsProvisioning || this.declared.has(name);
  }

  private async declare(name: string, options: QueueOptions): Promise<void> {
    if (name !== this.deadLetter) await this.ensure(this.deadLetter);
    const base = new URL(this.managementUrl);
    const auth = Buffer.from(
      `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`,
    ).toString('base64');
    base.username = '';
    base.password = '';
    const url = new URL(`api/queues/%2F/${encodeURIComponent(name)}`, base.toString().replace(/\/?$/, '/'));
    const args: Record<string, unknown> = {};
    if (options.exclusive) args['x-single-active-consumer'] = true;
    if (options.maxDeliveries !== undefined) {
      // Only quorum queues count returns from dead consumers; past the limit
      // the message goes to the dead-letter route (x-delivery-limit counts
      // redeliveries, hence one less than the deliveries allowed).
      args['x-queue-type'] = 'quorum';
      args['x-delivery-limit'] = Math.max(0, options.maxDeliveries - 1);
    }
    if (name !== this.deadLetter) {
      args['x-dead-letter-exchange'] = '';
      args['x-dead-letter-routing-key'] = this.deadLetter;
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'PUT',
        headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
        body: JSON.stringify({ durable: true, auto_delete: false, arguments: args }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new DependencyError(`Cannot reach the RabbitMQ management API to declare queue ${name}`, {
        retryable: true,
        cause: err,
      });
    }
    if (res.status !== 201 && res.status !== 204) {
      const text = await res.text().catch(() => '');
      if (res.status === 400 && /inequivalent arg/.test(text)) {
        // Declared earlier with other arguments (an older release, or another
        // IIB_AMQP_MAX_DELIVERIES): it still works as declared; RabbitMQ cannot
        // change a queue's arguments in place, so an operator deletes it when empty.
        this.warn(
          { queue: name, wanted: args, broker: text },
          'queue exists with other arguments; using it as is',
        );
        return;
      }
      throw new DependencyError(`Declaring queue ${name} failed: HTTP ${res.status} ${text}`, {
        retryable: res.status >= 500,
      });
    }
  }
}

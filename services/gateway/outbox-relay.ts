import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { errorMessage } from '../../shared/errors';
import type { Messaging } from '../../shared/messaging';

interface OutboxRow {
  id: string;
  destination: string;
  body: unknown;
  application_properties: Record<string, string | number | boolean | null>;
  message_id: string;
  traceparent: string | null;
  tracestate: string | null;
}

/** Any 64-bit number; the relay's advisory lock makes one relay publish at a time, in id order. */
const RELAY_LOCK = 0x11b0_0b0e;

/**
 * Publishes outbox rows and deletes each only after the broker accepted it.
 * Woken by kick() after a commit in this process, and by a poll for rows
 * written by other gateway replicas or left over from a crash or an outage.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private failures = 0;

  constructor(
    private readonly db: Knex,
    private readonly messaging: Messaging,
    private readonly log: Logger,
    private readonly options: { pollMs: number; batchSize?: number },
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Publish soon: something was just committed. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    // The relay belongs to no request: kick() runs inside whichever request
    // committed, and without this every later poll and drain would join that
    // request's trace. Each sent message carries its own row's trace instead.
    this.timer = setTimeout(() => context.with(ROOT_CONTEXT, () => this.tick()), delayMs);
  }

  private tick(): void {
    this.timer = undefined;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.schedule(0);
      } else {
        const backoff = this.failures > 0 ? Math.min(10_000, 200 * 2 ** this.failures) : this.options.pollMs;
        this.schedule(backoff);
      }
    });
  }

  /** Publishes until the outbox is empty or the broker fails. */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        const published = await this.publishBatch();
        if (published === 0) break;
      }
      if (this.failures > 0) this.log.info('outbox relay publishing again');
      this.failures = 0;
    } catch (err) {
      this.failures += 1;
      const level = this.failures === 1 ? 'warn' : 'debug';
      this.log[level](
        { err: errorMessage(err), failures: this.failures },
        'outbox relay cannot publish, will retry',
      );
    }
  }

  private async publishBatch(): Promise<number> {
    if (!this.messaging.connection.up) throw new Error('broker not connected');
    return this.db.transaction(async (trx) => {
      // The lock and the batch in one round trip: no rows when another relay holds the lock.
      const { rows } = await trx.raw<{ rows: OutboxRow[] }>(
        `WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(?) AS locked)
         SELECT o.* FROM lock, LATERAL (SELECT * FROM outbox WHERE lock.locked ORDER BY id LIMIT ?) o`,
        [RELAY_LOCK, this.options.batchSize ?? 200],
      );
      if (rows.length === 0) return 0;
      // One link per address keeps order; sends are pipelined, each awaited for its outcome.
      const results = await Promise.allSettled(rows.map((row) => this.publish(row)));
      const done = rows.filter((_, i) => results[i]?.status === 'fulfilled').map((r) => r.id);
      if (done.length > 0) await trx('outbox').whereIn('id', done).delete();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return rows.length;
    });
  }

  private async publish(row: OutboxRow): Promise<void> {
    const carrier: Record<string, string> = {};
    if (row.traceparent) carrier.traceparent = row.traceparent;
    if (row.tracestate) carrier.tracestate = row.tracestate;
    const parent = propagation.extract(ROOT_CONTEXT, carrier);
    const sender = await this.messaging.queueSender(row.destination);
    await context.with(parent, () =>
      sender.send({
        body: row.body,
        applicationProperties: row.application_properties,
        messageId: row.message_id,
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { sendBatch, type AmqpSender, type Messaging } from '../../../shared/messaging';

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
      this.log[level]({ err, failures: this.failures }, 'outbox relay cannot publish, will retry');
    }
  }

  private async publishBatch(): Promise<number> {
    if (!this.messaging.connection.up) throw new Error('broker not connected');
    return this.db.transaction(async (trx) => {
      // The lock and the batch in one round trip: no rows when another relay holds the lock.
      // FOR UPDATE: the statement's snapshot may predate the commit of the relay that
      // held the lock just before; locking the rows re-reads them, so rows it deleted
      // (published) are skipped instead of published twice.
      const { rows } = await trx.raw<{ rows: OutboxRow[] }>(
        `WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(?) AS locked)
         SELECT o.* FROM lock, LATERAL (SELECT * FROM outbox WHERE lock.locked ORDER BY id LIMIT ? FOR UPDATE) o`,
        [RELAY_LOCK, this.options.batchSize ?? 200],
      );
      if (rows.length === 0) return 0;
      // One link per address keeps order; sends are pipelined, each awaited for its outcome.
      const results = await this.publishAll(rows);
      const done = rows.filter((_, i) => results[i]?.status === 'fulfilled').map((r) => r.id);
      if (done.length > 0) await trx('outbox').whereIn('id', done).delete();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return rows.length;
    });
  }

  /**
   * Publishes the rows, those of one request (one creation context) under
   * one send span: a request's three messages cost one span, not three.
   */
  private async publishAll(rows: OutboxRow[]): Promise<PromiseSettledResult<void>[]> {
    const groups = new Map<string, number[]>();
    rows.forEach((row, i) => {
      const key = `${row.traceparent ?? ''} ${row.tracestate ?? ''}`;
      const group = groups.get(key);
      if (group) group.push(i);
      else groups.set(key, [i]);
    });
    const results = new Array<PromiseSettledResult<void>>(rows.length);
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const senders = await Promise.allSettled(
          indexes.map((i) => this.messaging.queueSender(rows[i]!.destination)),
        );
        const ready: { index: number; sender: AmqpSender }[] = [];
        senders.forEach((s, k) => {
          if (s.status === 'fulfilled') ready.push({ index: indexes[k]!, sender: s.value });
          else results[indexes[k]!] = s;
        });
        const settled = await sendBatch(
          creationHeaders(rows[indexes[0]!]!),
          this.messaging.connection.connection,
          ready.map(({ index, sender }) => ({
            address: sender.target.address,
            send: (traceHeaders) => {
              const row = rows[index]!;
              return sender.send({
                body: row.body,
                applicationProperties: { ...row.application_properties, ...traceHeaders },
                messageId: row.message_id,
              });
            },
          })),
          this.messaging.dialect.system,
        );
        ready.forEach(({ index }, k) => (results[index] = settled[k]!));
      }),
    );
    return results;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

/** The trace context the row was written in (the request's), as W3C headers. */
function creationHeaders(row: OutboxRow): Record<string, string> {
  const headers: Record<string, string> = {};
  if (row.traceparent) headers.traceparent = row.traceparent;
  if (row.tracestate) headers.tracestate = row.tracestate;
  return headers;
}

import { randomUUID } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';
import type { Knex } from 'knex';

export interface OutboxMessage {
  /** Logical destination name (see shared/messaging/names). */
  destination: string;
  body: unknown;
  applicationProperties?: Record<string, string | number | boolean | null>;
}

/**
 * Writes messages to the outbox inside the caller's transaction, with the
 * trace context of the code that wrote them, so the relay can publish them
 * later as part of the same trace.
 */
export async function enqueue(trx: Knex.Transaction, messages: OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await trx('outbox').insert(outboxRows(messages));
}

/** The outbox rows of `messages`, each carrying the active trace context. */
export function outboxRows(messages: OutboxMessage[]): Record<string, string | null>[] {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return messages.map((m) => ({
    destination: m.destination,
    body: JSON.stringify(m.body),
    application_properties: JSON.stringify(m.applicationProperties ?? {}),
    message_id: randomUUID(),
    traceparent: carrier.traceparent ?? null,
    tracestate: carrier.tracestate ?? null,
  }));
}

/**
 * The outbox's backlog for the metrics, in one cheap query (the table is
 * near-empty while the broker is up). Scrapes of several gateway replicas
 * read the same table: sum or max them, do not add replicas' values blindly.
 */
export async function readOutboxBacklog(db: Knex): Promise<{ rows: number; oldestAgeSeconds: number }> {
  const { rows } = await db.raw<{ rows: { n: number; age: number | null }[] }>(
    `SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age FROM outbox`,
  );
  const r = rows[0];
  return { rows: r?.n ?? 0, oldestAgeSeconds: Math.max(0, r?.age ?? 0) };
}

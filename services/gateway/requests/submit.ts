import type { RequestType } from '../../../shared/contracts';
import { BuildRequestEvent, outgoingMessage } from '../../../shared/contracts';
import { DependencyError } from '../../../shared/errors';
import { currentTraceId } from '../../../shared/tracing';
import type { OutboxMessage } from '../outbox/outbox';
import { batchMessage, buildRequestMessage, buildStateMessage } from './events';
import { INITIAL_REASON } from './record';
import type { NewBatch, NewRow, RequestStore } from './store';

export interface NewRequest {
  type: RequestType;
  user: string | null;
  params: Record<string, unknown>;
  /** Sealed with the request id as associated data, never stored in plain text. */
  secrets?: object;
  fromIndex?: string | null;
}

/** Seals a request's secrets for the builder; the request id binds them to that request. */
export type Sealer = (secrets: object, requestId: number) => string;

/** The associated data a builder passes to SecretBox.open for a request's sealed_secrets. */
export function secretsAssociatedData(requestId: number): string {
  return `iib-request:${requestId}`;
}

function seal(
  sealer: Sealer | undefined,
  secrets: object | undefined,
  requestId: number,
): string | undefined {
  if (!secrets) return undefined;
  if (!sealer)
    throw new DependencyError('IIB_SECRETS_KEY is not configured: tokens cannot be accepted', {
      retryable: false,
    });
  return sealer(secrets, requestId);
}

/**
 * A batch as written: each request in progress with its first state, and
 * the messages it causes (the work for the scheduler and the build state,
 * per request; the batch state, once).
 */
export function planBatch(
  items: NewRequest[],
  ids: { batchId: number; ids: number[] },
  annotations: Record<string, unknown> | null,
  sealer: Sealer | undefined,
  now: Date,
): NewBatch {
  const { batchId } = ids;
  const traceId = currentTraceId() ?? null;
  const rows: NewRow[] = items.map((i, idx) => ({
    id: ids.ids[idx] as number,
    type: i.type,
    user_name: i.user,
    batch_id: batchId,
    state: 'in_progress',
    state_reason: INITIAL_REASON,
    updated: now,
    // As read back from the database: a copy holding only JSON values.
    params: JSON.parse(JSON.stringify(i.params)) as Record<string, unknown>,
    results: {},
    trace_id: traceId,
    from_index: i.fromIndex ?? null,
  }));
  const messages: OutboxMessage[] = [];
  rows.forEach((r, idx) => {
    // Checked against its contract before it is written: a mismatch is our bug, nothing is stored.
    const event = outgoingMessage(
      BuildRequestEvent,
      {
        id: r.id,
        request_type: r.type,
        user: r.user_name,
        batch: batchId,
        params: r.params,
        sealed_secrets: seal(sealer, items[idx]?.secrets, r.id),
        submitted_at: now.toISOString(),
      },
      `request event ${r.id}`,
    );
    messages.push(buildRequestMessage(event), buildStateMessage(r));
  });
  messages.push(batchMessage(batchId, annotations, rows));
  return { batchId, annotations, rows, messages };
}

/**
 * Creates the requests of one batch, their first state and every message
 * they cause, atomically: the ids first (sealed secrets are bound to their
 * request id), then everything else at once.
 */
export async function submitRequests(
  store: RequestStore,
  sealer: Sealer | undefined,
  items: NewRequest[],
  annotations: Record<string, unknown> | null = null,
  now?: Date,
): Promise<NewRow[]> {
  const ids = await store.reserveIds(items.length);
  const batch = planBatch(items, ids, annotations, sealer, now ?? new Date());
  await store.insertBatch(batch);
  return batch.rows;
}

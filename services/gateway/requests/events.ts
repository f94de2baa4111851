import type { BatchStateBody, BuildRequestEvent } from '../../../shared/contracts';
import { Names } from '../../../shared/messaging/names';
import { requestJson } from './request-json';
import type { OutboxMessage } from '../outbox/outbox';
import type { RequestRecord } from './record';

/** The messages a request's changes cause, shaped from the rows alone (no I/O). */

/** The request's new state for the notifier and other listeners: its IIB JSON. */
export function buildStateMessage(r: RequestRecord): OutboxMessage {
  return {
    destination: Names.buildStateEvents,
    body: requestJson(r),
    applicationProperties: { batch: r.batch_id, id: r.id, state: r.state, user: r.user_name },
  };
}

/** The work for the scheduler. */
export function buildRequestMessage(event: BuildRequestEvent): OutboxMessage {
  return { destination: Names.requests, body: event };
}

/** IIB's batch state: in progress while any request is, else failed if any failed, else complete. */
export function batchState(states: string[]): 'in_progress' | 'failed' | 'complete' {
  if (states.some((s) => s === 'in_progress')) return 'in_progress';
  if (states.some((s) => s === 'failed')) return 'failed';
  return 'complete';
}

export function batchBody(
  batch: number,
  annotations: Record<string, unknown> | null,
  rows: RequestRecord[],
): BatchStateBody {
  return {
    batch,
    annotations,
    requests: rows.map((r) => ({
      id: r.id,
      organization: typeof r.params.organization === 'string' ? r.params.organization : null,
      request_type: r.type,
    })),
    state: batchState(rows.map((r) => r.state)),
    user: rows[0]?.user_name ?? null,
  };
}

export function batchMessage(
  batch: number,
  annotations: Record<string, unknown> | null,
  rows: RequestRecord[],
): OutboxMessage {
  return { destination: Names.batchStateEvents, body: batchBody(batch, annotations, rows) };
}

import { randomUUID } from 'node:crypto';
import { types } from 'rhea';
import { parseBatchStateEvent, parseBuildStateEvent } from '../../shared/contracts';
import type { InboundMessage, OutboundMessage, PropertyValue } from '../../shared/messaging';
import { pythonJsonDumps } from './python-json';

/**
 * IIB's state messages (iib/web/messaging.py), made from the internal events
 * the gateway's outbox publishes. The body is re-serialized the way IIB's
 * `json.dumps` writes it; properties carry IIB's AMQP types (qpid-proton
 * sends Python ints as `long`).
 */
export type StateMessageFactory = (event: InboundMessage, durable: boolean) => OutboundMessage;

type Json = Record<string, unknown>;

/** Build state: the request's non-verbose JSON; properties batch, id, state, user. */
export const buildStateMessage: StateMessageFactory = (event, durable) => {
  const { id, batch, state, user } = parseBuildStateEvent(event.body);
  // The request JSON goes on as it came, in its own key order.
  return envelope(
    event,
    event.body as Json,
    { batch: long(batch), id: long(id), state, user: user ?? null },
    durable,
  );
};

/**
 * Batch state: exactly `batch, annotations, requests[{id, organization,
 * request_type}], state, user`, in IIB's key order; properties batch, state,
 * user.
 */
export const batchStateMessage: StateMessageFactory = (event, durable) => {
  const body = parseBatchStateEvent(event.body);
  const requests = body.requests.map((r) => ({
    id: r.id,
    organization: r.organization,
    request_type: r.request_type,
  }));
  const user = body.user;
  const content = {
    batch: body.batch,
    annotations: body.annotations,
    requests,
    state: body.state,
    user,
  };
  return envelope(event, content, { batch: long(body.batch), state: body.state, user }, durable);
};

function envelope(
  event: InboundMessage,
  content: Json,
  properties: Record<string, PropertyValue>,
  durable: boolean,
): OutboundMessage {
  // The event's id is unique per state change and the same on every
  // redelivery, so a subscriber can drop duplicates by correlation id.
  const id = event.messageId ?? randomUUID();
  return {
    body: content,
    bodyText: pythonJsonDumps(content),
    applicationProperties: { ...properties, ...traceContext(event) },
    correlationId: id,
    messageId: id,
    durable,
  };
}

/**
 * The request's W3C context, carried over as is. With tracing on, the rhea
 * instrumentation replaces it with the notifier's own send span (same trace);
 * without tracing, subscribers still continue the request's trace.
 */
function traceContext(event: InboundMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const value = event.applicationProperties[key];
    if (typeof value === 'string' && value !== '') out[key] = value;
  }
  return out;
}

function long(n: number): PropertyValue {
  return types.wrap_long(n);
}

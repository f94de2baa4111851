import { randomUUID } from 'node:crypto';
import { types } from 'rhea';
import { ValidationError } from '../../shared/errors';
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
  const body = asObject(event.body, 'build-state event needs the request JSON');
  const id = integer(body.id, 'id');
  const batch = integer(body.batch, 'batch');
  const state = text(body.state, 'state');
  const user = optionalText(body.user, 'user');
  return envelope(event, body, { batch: long(batch), id: long(id), state, user }, durable);
};

/**
 * Batch state: exactly `batch, annotations, requests[{id, organization,
 * request_type}], state, user`, in IIB's key order; properties batch, state,
 * user.
 */
export const batchStateMessage: StateMessageFactory = (event, durable) => {
  const body = asObject(event.body, 'batch-state event needs the batch JSON');
  const batch = integer(body.batch, 'batch');
  const state = text(body.state, 'state');
  const user = optionalText(body.user, 'user');
  if (!Array.isArray(body.requests)) throw new ValidationError('batch-state event: requests must be a list');
  const requests = body.requests.map((r: unknown) => {
    const req = asObject(r, 'batch-state event: each request must be an object');
    return {
      id: integer(req.id, 'requests[].id'),
      organization: optionalText(req.organization, 'requests[].organization'),
      request_type: text(req.request_type, 'requests[].request_type'),
    };
  });
  const content = { batch, annotations: body.annotations ?? null, requests, state, user };
  return envelope(event, content, { batch: long(batch), state, user }, durable);
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

function asObject(v: unknown, message: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError(message);
  return v as Json;
}

function integer(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new ValidationError(`${field} must be an integer`);
  return v;
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new ValidationError(`${field} must be a string`);
  return v;
}

function optionalText(v: unknown, field: string): string | null {
  if (v === null || v === undefined) return null;
  return text(v, field);
}

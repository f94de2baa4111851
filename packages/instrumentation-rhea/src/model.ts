import type { Attributes, TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/*
 * The parts of rhea's internal object model the instrumentation touches.
 * rhea's published typings do not describe `local.attach`, `options` or the
 * per-delivery closures, so they are declared structurally here and every
 * access is defensive: a rhea release that renames one of them must degrade
 * to fewer attributes, never to a failing send.
 */
export interface RheaMessage {
  application_properties?: Record<string, unknown>;
  message_id?: unknown;
  correlation_id?: unknown;
  to?: unknown;
  body?: unknown;
}

export interface RheaConnection {
  options?: { host?: unknown; port?: unknown; container_id?: unknown };
  container_id?: unknown;
}

export interface RheaLink {
  name?: string;
  options?: { source?: unknown; target?: unknown; autoaccept?: unknown };
  connection?: RheaConnection;
  local?: { attach?: { snd_settle_mode?: unknown; rcv_settle_mode?: unknown } };
  error?: { condition?: unknown };
}

export interface RheaDelivery {
  settled?: boolean;
  remote_state?: unknown;
  update?: (settled?: boolean, state?: unknown) => void;
}

export interface RheaEventContext {
  message?: unknown;
  delivery?: RheaDelivery;
  format?: unknown;
}

export type Outcome = 'accepted' | 'rejected' | 'released' | 'modified' | 'settled';

// Numeric descriptors of the AMQP 1.0 outcomes (spec 3.4), as rhea encodes them.
const OUTCOME_CODES: Record<string, Outcome> = {
  '36': 'accepted',
  '37': 'rejected',
  '38': 'released',
  '39': 'modified',
  'amqp:accepted:list': 'accepted',
  'amqp:rejected:list': 'rejected',
  'amqp:released:list': 'released',
  'amqp:modified:list': 'modified',
};

/** The outcome carried by a delivery state (a described type, or rhea's unwrapped outcome object). */
export function outcomeOf(state: unknown): Outcome | undefined {
  if (!isObject(state)) return undefined;
  const descriptor = state.descriptor;
  if (
    isObject(descriptor) &&
    (typeof descriptor.value === 'number' || typeof descriptor.value === 'string')
  ) {
    return OUTCOME_CODES[String(descriptor.value)];
  }
  return undefined;
}

export function isMessageObject(msg: unknown): msg is RheaMessage {
  return isObject(msg) && !Buffer.isBuffer(msg);
}

export function addressOf(terminus: unknown): string | undefined {
  if (typeof terminus === 'string') return terminus;
  if (isObject(terminus) && typeof terminus.address === 'string') return terminus.address;
  return undefined;
}

/** Message ids may be strings, numbers, UUID/binary buffers: all rendered as strings. */
export function idToString(id: unknown): string | undefined {
  if (typeof id === 'string') return id;
  if (typeof id === 'number' || typeof id === 'bigint') return String(id);
  if (Buffer.isBuffer(id)) return id.toString('hex');
  return undefined;
}

/** Body size only when it costs nothing to know: string or binary bodies. */
export function bodySize(body: unknown): number | undefined {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (Buffer.isBuffer(body)) return body.length;
  return undefined;
}

/**
 * Connection attributes. Only host/port/container id are read; the options
 * object also holds the password, which must never reach a span.
 */
export function connectionAttributes(connection: RheaConnection | undefined): Attributes {
  const attrs: Attributes = {};
  const options = connection?.options;
  if (typeof options?.host === 'string') attrs['server.address'] = options.host;
  const port = typeof options?.port === 'string' ? Number(options.port) : options?.port;
  if (typeof port === 'number' && Number.isInteger(port)) attrs['server.port'] = port;
  const clientId = connection?.container_id ?? options?.container_id;
  if (typeof clientId === 'string') attrs['messaging.client.id'] = clientId;
  return attrs;
}

/**
 * A new attribute set: a copy of `base` (the link's) plus the message's own.
 * Copied key by key: on V8 11 (Node 20) adding keys to an object made by
 * spread syntax costs about a microsecond, on every message.
 */
export function messageAttributes(
  msg: RheaMessage | undefined,
  base: Readonly<Attributes>,
  withBodySize = false,
): Attributes {
  const attrs = copyRecord(base);
  if (!msg) return attrs;
  const id = idToString(msg.message_id);
  if (id !== undefined) attrs['messaging.message.id'] = id;
  const correlation = idToString(msg.correlation_id);
  if (correlation !== undefined) attrs['messaging.message.conversation_id'] = correlation;
  if (withBodySize) {
    const size = bodySize(msg.body);
    if (size !== undefined) attrs['messaging.message.body.size'] = size;
  }
  return attrs;
}

/** A shallow copy that stays cheap to add keys to (see messageAttributes). */
export function copyRecord<T>(source: Readonly<Record<string, T>>): Record<string, T> {
  const copy: Record<string, T> = {};
  for (const key in source) {
    if (Object.prototype.hasOwnProperty.call(source, key)) copy[key] = source[key]!;
  }
  return copy;
}

// Azure's SDKs carry the W3C traceparent under this name; read it as a fallback.
const DIAGNOSTIC_ID = 'Diagnostic-Id';

export const applicationPropertiesGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key] ?? (key === 'traceparent' ? carrier[DIAGNOSTIC_ID] : undefined);
    if (typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return undefined;
  },
};

// ActiveMQ turns binary properties into escaped strings: only strings survive, so only strings are written.
export const applicationPropertiesSetter: TextMapSetter<Record<string, unknown>> = {
  set: (carrier, key, value) => {
    carrier[key] = String(value);
  },
};

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

import {
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Attributes,
  type Context,
  type Link,
} from '@opentelemetry/api';
import {
  addressOf,
  applicationPropertiesGetter,
  connectionAttributes,
  isObject,
  type RheaDelivery,
  type RheaLink,
} from './model';
import { DEFAULT_CONFIG, type RheaInstrumentationConfig } from './types';

export type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

export interface LinkPrototype {
  send?: AnyFn;
  dispatch: AnyFn;
  _disconnect?: AnyFn;
}

/** What `rhea/lib/link.js` exports. */
export interface LinkModule {
  Sender: { prototype: LinkPrototype };
  Receiver: { prototype: LinkPrototype };
}

export function extract(
  properties: Record<string, unknown>,
): { context: Context; spanContext: Link['context'] } | undefined {
  const extracted = propagation.extract(ROOT_CONTEXT, properties, applicationPropertiesGetter);
  const spanContext = trace.getSpanContext(extracted);
  return spanContext && isSpanContextValid(spanContext) ? { context: extracted, spanContext } : undefined;
}

export interface LinkInfo {
  /** Attributes every span of this link shares; copied, never handed to a span itself. */
  readonly attributes: Readonly<Attributes>;
  readonly destination: string | undefined;
  readonly spanName: string;
  readonly config: RheaInstrumentationConfig;
  /** The connection's options when this was worked out: a failover to another broker replaces them. */
  readonly connectionOptions: unknown;
}

const LINK_INFO = Symbol('iib.rhea.linkInfo');

/**
 * What every span of a link shares (system, operation, server, client id,
 * address, span name), worked out once per link instead of on every message.
 * A link keeps its address for its whole life; a new configuration
 * (setConfig) or new connection options (rhea's reconnect to another broker
 * of the list) recompute it.
 */
export function linkInfo(
  link: RheaLink,
  config: RheaInstrumentationConfig,
  operation: 'send' | 'process',
): LinkInfo {
  const holder = link as RheaLink & { [LINK_INFO]?: LinkInfo };
  const cached = holder[LINK_INFO];
  if (cached && cached.config === config && cached.connectionOptions === link.connection?.options) {
    return cached;
  }
  const destination = addressOf(operation === 'send' ? link.options?.target : link.options?.source);
  const attributes: Attributes = {
    'messaging.system': config.messagingSystem ?? DEFAULT_CONFIG.messagingSystem,
    'messaging.operation.name': operation,
    'messaging.operation.type': operation,
    ...connectionAttributes(link.connection),
  };
  if (destination !== undefined) attributes['messaging.destination.name'] = destination;
  const info: LinkInfo = {
    attributes,
    destination,
    spanName: spanName(operation, destination, attributes),
    config,
    connectionOptions: link.connection?.options,
  };
  // Not before the connection is known: server.address would be missing for good.
  if (link.connection) holder[LINK_INFO] = info;
  return info;
}

// semconv: "{operation} {destination}", or the server when there is no destination.
export function spanName(operation: string, destination: string | undefined, attrs: Attributes): string {
  if (destination) return `${operation} ${destination}`;
  const host = attrs['server.address'];
  const port = attrs['server.port'];
  const suffix = typeof port === 'number' || typeof port === 'string' ? `:${port}` : '';
  if (typeof host === 'string') return `${operation} ${host}${suffix}`;
  return operation;
}

export function rejectionCondition(delivery: RheaDelivery | undefined): string | undefined {
  const state = delivery?.remote_state;
  if (!isObject(state) || !isObject(state.error)) return undefined;
  const condition = state.error.condition;
  return typeof condition === 'string' ? condition : undefined;
}

export function isLinkModule(exports: unknown): exports is LinkModule {
  if (!isObject(exports)) return false;
  const { Sender, Receiver } = exports;
  return (
    typeof Sender === 'function' &&
    typeof Receiver === 'function' &&
    typeof (Sender.prototype as LinkPrototype).send === 'function' &&
    typeof (Receiver.prototype as LinkPrototype).dispatch === 'function'
  );
}

import type { Span } from '@opentelemetry/api';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { RheaMessage } from './model';

/** What the publish and consume hooks are told about the message. */
export interface RheaHookInfo {
  readonly message: RheaMessage | undefined;
  readonly destination: string | undefined;
}

/** A hook that may add attributes to a send or process span. Do not record bodies: they may carry secrets. */
export type RheaSpanHook = (span: Span, info: RheaHookInfo) => void;

export interface RheaInstrumentationConfig extends InstrumentationConfig {
  /** `messaging.system` of every span (default `rabbitmq`; an ActiveMQ/Artemis broker is `activemq`). */
  messagingSystem?: string;
  /**
   * `false` (default): the process span is a child of the message's creation
   * context, so a request is one trace across services. `true`: a new trace
   * that only links to it (the semconv default, amqplib's `useLinksForConsume`).
   */
  useLinksForConsume?: boolean;
  /** An unsettled delivery's span ends after this many ms (default 60000), with `error.type=settle_timeout`. */
  settleTimeoutMs?: number;
  /** Add `messaging.message.body.size` (semconv opt-in; default false). */
  recordBodySize?: boolean;
  /** Called with each send span before the message goes out. */
  publishHook?: RheaSpanHook;
  /** Called with each process span before the listeners run. */
  consumeHook?: RheaSpanHook;
}

export const DEFAULT_CONFIG = {
  messagingSystem: 'rabbitmq',
  useLinksForConsume: false,
  settleTimeoutMs: 60_000,
  recordBodySize: false,
} as const satisfies RheaInstrumentationConfig;

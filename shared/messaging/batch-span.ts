import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  ROOT_CONTEXT,
  type Attributes,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { connectionAttributes, type RheaConnection } from '@iib-ts/instrumentation-rhea';
import { loadAmqpTracingConfig } from '../config/tracing-config';
import { isTracingStarted } from '../tracing';

/** The instrumentation scope of the batch span. */
const TRACER_NAME = '@iib/tracing';

/** One message of a batch: where it goes, and how to send it with the trace headers it must carry. */
export interface BatchMessage<T> {
  /** The address it is sent to (the sender link's target). */
  address: string;
  send: (traceHeaders: Readonly<Record<string, string>>) => Promise<T>;
}

/**
 * Sends messages that share one creation context (an outbox relay's rows of
 * one request) under a single `send` span, semconv's batch send, instead of
 * one span per message. Every message carries the batch span's context, so
 * each consumer's process span is its child, as with a per-message span.
 *
 * The span is the child of the creation context, is named `send <address>` when every
 * message goes to one address and `send` otherwise, and ends when every send
 * has settled; a failed send sets the ERROR status. The sends themselves run
 * with tracing suppressed: the rhea instrumentation adds no span of its own.
 *
 * `creation` is the messages' creation context as W3C headers (`traceparent`,
 * `tracestate`), as stored with them. Without a running SDK (a replica that
 * does not trace) those headers are passed on unchanged, so the trace still
 * continues downstream.
 */
export async function sendBatch<T>(
  creation: Readonly<Record<string, string>>,
  connection: RheaConnection | undefined,
  messages: readonly BatchMessage<T>[],
  /** The broker's `messaging.system` (the dialect's), unless `IIB_MESSAGING_SYSTEM` says otherwise. */
  system?: string,
): Promise<PromiseSettledResult<T>[]> {
  if (!isTracingStarted() || messages.length === 0) {
    return Promise.allSettled(messages.map((m) => m.send(creation)));
  }
  const parent = propagation.extract(ROOT_CONTEXT, creation);
  const address = messages[0]!.address;
  const single = messages.every((m) => m.address === address);
  const attributes: Attributes = {
    'messaging.system': messagingSystem(system),
    'messaging.operation.name': 'send',
    'messaging.operation.type': 'send',
    ...connectionAttributes(connection),
  };
  if (single) attributes['messaging.destination.name'] = address;
  // semconv: only on spans of more than one message.
  if (messages.length > 1) attributes['messaging.batch.message_count'] = messages.length;
  const span = trace
    .getTracer(TRACER_NAME)
    // semconv: PRODUCER, as its context is injected into the messages.
    .startSpan(single ? `send ${address}` : 'send', { kind: SpanKind.PRODUCER, attributes }, parent);
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), headers);
  const results = await context.with(suppressTracing(parent), () =>
    Promise.allSettled(messages.map((m) => m.send(headers))),
  );
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) {
    const first = failed[0]!.reason as unknown;
    const error = first instanceof Error ? first : new Error(String(first));
    span.recordException(error);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: `${failed.length} of ${messages.length} not accepted: ${error.message}`,
    });
  }
  span.end();
  return results;
}

let configured: string | undefined;

function messagingSystem(dialectSystem: string | undefined): string {
  // As the rhea instrumentation: IIB_MESSAGING_SYSTEM wins, then the broker the
  // sender talks to, then the configured dialect's.
  const fromSender = process.env.IIB_MESSAGING_SYSTEM?.trim() ? undefined : dialectSystem;
  return fromSender ?? (configured ??= loadAmqpTracingConfig().messagingSystem);
}

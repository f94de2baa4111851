import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/** The active trace id (32 hex chars), e.g. to store with a request; undefined outside a span. */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

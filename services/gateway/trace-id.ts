import { trace } from '@opentelemetry/api';

/** The id of the active trace, kept with a request so a failure can be traced back. */
export function currentTraceId(): string | null {
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || !trace.isSpanContextValid(ctx)) return null;
  return ctx.traceId;
}

import { SpanStatusCode, type Span } from '@opentelemetry/api';

/**
 * Marks a span as failed: the exception as an event, `error.type` when one
 * is given, and ERROR status with `message` or else the error's own. A
 * thrown non-Error is recorded as an Error of its string form, which is
 * returned.
 */
export function failSpan(span: Span, err: unknown, options: { type?: string; message?: string } = {}): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  if (options.type !== undefined) span.setAttribute('error.type', options.type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: options.message ?? error.message });
  return error;
}

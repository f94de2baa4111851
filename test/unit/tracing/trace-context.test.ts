import { trace } from '@opentelemetry/api';
import { currentTraceId } from '../../../shared/tracing';
import { startMemoryTracing, warmUp } from './memory-tracing';

const { exporter } = startMemoryTracing();
beforeAll(() => warmUp(exporter));

describe('currentTraceId', () => {
  it('when spans nest, then inside the inner one it is the trace id they share', async () => {
    const tracer = trace.getTracer('unit');
    let innerTraceId: string | undefined;
    let outerTraceId: string | undefined;
    await tracer.startActiveSpan('outer', async (outer) => {
      outerTraceId = outer.spanContext().traceId;
      await tracer.startActiveSpan('inner', async (inner) => {
        innerTraceId = currentTraceId();
        inner.end();
      });
      outer.end();
    });
    expect(innerTraceId).toBe(outerTraceId);
  });

  it('when no span is active, then it is undefined', () => {
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(currentTraceId()).toBeUndefined();
  });
});

import { SpanStatusCode, trace } from '@opentelemetry/api';
import {
  currentTraceHeaders,
  currentTraceId,
  traced,
  traceMethods,
  withSpan,
} from '../../../shared/tracing/traced';
import { finished, startMemoryTracing, warmUp } from './memory-tracing';

const { exporter } = startMemoryTracing();
beforeAll(() => warmUp(exporter));
beforeEach(() => exporter.reset());

describe('traced()', () => {
  it('when a sync function returns, then one OK span with the attributes wraps it and the value is returned', () => {
    const add = traced('math.add', (a: number, b: number) => a + b, {
      attributes: (a, b) => ({ 'math.a': a, 'math.b': b }),
    });
    expect(add(2, 3)).toBe(5);
    const [span] = finished(exporter, 'math.add');
    expect(span?.attributes).toEqual({ 'math.a': 2, 'math.b': 3 });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('when a sync function throws, then the span records the exception with ERROR and the error is rethrown', () => {
    const fail = traced('sync.fail', () => {
      throw new RangeError('bad range');
    });
    expect(() => fail()).toThrow(RangeError);
    const [span] = finished(exporter, 'sync.fail');
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad range' });
    expect(span?.events[0]?.name).toBe('exception');
    expect(span?.events[0]?.attributes?.['exception.type']).toBe('RangeError');
  });

  it('when an async function rejects, then the span ends at the rejection with ERROR', async () => {
    const fail = traced('async.fail', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('later');
    });
    const pending = fail();
    expect(finished(exporter, 'async.fail')).toHaveLength(0);
    await expect(pending).rejects.toThrow('later');
    expect(finished(exporter, 'async.fail')[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('when traced functions nest, then inner spans are children and see the same trace id', async () => {
    let innerTraceId: string | undefined;
    const inner = traced('inner', async () => {
      innerTraceId = currentTraceId();
    });
    const outer = traced('outer', async () => {
      await inner();
    });
    await outer();
    const [o] = finished(exporter, 'outer');
    const [i] = finished(exporter, 'inner');
    expect(i?.parentSpanContext?.spanId).toBe(o?.spanContext().spanId);
    expect(innerTraceId).toBe(o?.spanContext().traceId);
  });
});

describe('traceMethods()', () => {
  class Builder {
    steps: string[] = [];
    get stepCount(): number {
      return this.steps.length;
    }
    resolve(image: string): string {
      this.steps.push(image);
      return `${image}@sha256:0`;
    }
    async push(): Promise<void> {
      throw new Error('registry down');
    }
  }
  class FastBuilder extends Builder {
    fast(): string {
      return this.resolve('fast');
    }
  }

  it('when an object is traced, then own and inherited methods get <prefix>.<name> spans with `this` intact', async () => {
    const b = traceMethods(new FastBuilder(), 'builder');
    expect(b.fast()).toBe('fast@sha256:0');
    await expect(b.push()).rejects.toThrow('registry down');
    expect(b.stepCount).toBe(1);
    const names = exporter.getFinishedSpans().map((s) => s.name);
    expect(names).toEqual(['builder.resolve', 'builder.fast', 'builder.push']);
    expect(finished(exporter, 'builder.push')[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(new Builder().resolve('x')).toBe('x@sha256:0');
    expect(finished(exporter, 'builder.resolve')).toHaveLength(1);
  });

  it('when methods are excluded, then they are not traced', () => {
    const b = traceMethods(new Builder(), 'builder', { exclude: ['resolve'] });
    b.resolve('x');
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});

describe('withSpan() and context helpers', () => {
  it('when code runs in withSpan, then it can set attributes and the W3C headers name that span', () => {
    const headers = withSpan('step', (span) => {
      span.setAttribute('step.exit_code', 0);
      return currentTraceHeaders();
    });
    const [span] = finished(exporter, 'step');
    expect(span?.attributes['step.exit_code']).toBe(0);
    expect(headers.traceparent).toBe(`00-${span!.spanContext().traceId}-${span!.spanContext().spanId}-01`);
  });

  it('when no span is active, then currentTraceId is undefined and there are no headers', () => {
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(currentTraceId()).toBeUndefined();
    expect(currentTraceHeaders()).toEqual({});
  });
});

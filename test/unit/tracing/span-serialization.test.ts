import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { deserializeSpans, serializeSpans } from '../../../shared/tracing/span-serialization';
import { decodeProtobufRequest } from '../../support/otlp-receiver-decode';

function makeSpans(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'iib-builder', 'service.version': '1.2.3' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('serialization-test', '0.0.1');
  const parent = tracer.startSpan('parent', { kind: SpanKind.SERVER });
  const child = tracer.startSpan(
    'child',
    {
      kind: SpanKind.PRODUCER,
      attributes: { str: 's', num: 1.5, int: 42, bool: true, list: ['a', 'b'], nums: [1, 2] },
      links: [{ context: parent.spanContext(), attributes: { why: 'retry' } }],
    },
    trace.setSpan(context.active(), parent),
  );
  child.addEvent('checkpoint', { at: 3 });
  child.recordException(new Error('boom'));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  child.end();
  parent.end();
  return exporter;
}

describe('span serialization for the disk buffer', () => {
  it('when spans go through JSON and back, then their OTLP encoding is identical', () => {
    const original = makeSpans().getFinishedSpans();
    const restored = deserializeSpans(serializeSpans(original));
    const encode = (spans: typeof original) =>
      decodeProtobufRequest(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!));
    const before = encode(original);
    expect(encode(restored)).toEqual(before);
    const parent = before.find((s) => s.name === 'parent')!;
    const child = before.find((s) => s.name === 'child')!;
    expect(child).toMatchObject({
      name: 'child',
      kind: 'PRODUCER',
      parentSpanId: parent.spanId,
      serviceName: 'iib-builder',
      status: { code: 'ERROR', message: 'boom' },
      attributes: { str: 's', num: 1.5, int: 42, bool: true, list: ['a', 'b'], nums: [1, 2] },
    });
    expect(child.events.map((e) => e.name)).toEqual(['checkpoint', 'exception']);
    expect(child.links[0]).toMatchObject({ spanId: parent.spanId, attributes: { why: 'retry' } });
  });

  it('when spans share a resource, then the restored spans share one resource object too', () => {
    const restored = deserializeSpans(serializeSpans(makeSpans().getFinishedSpans()));
    expect(restored[0]!.resource).toBe(restored[1]!.resource);
  });

  it('when the file has an unknown format version, then reading fails', () => {
    expect(() => deserializeSpans('{"version":99,"resources":[],"spans":[]}')).toThrow('unsupported');
  });
});

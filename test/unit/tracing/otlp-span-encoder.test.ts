import {
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  createTraceState,
  trace,
  type Attributes,
} from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  TracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { OtlpSpanEncoder, sectionOf, type SpanSections } from '../../../shared/tracing/otlp-span-encoder';
import { decodeProtobufRequest } from '../../support/otlp-receiver-decode';

function providerWith(exporter: InMemorySpanExporter, service: string): TracerProvider {
  return new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': service,
      'service.version': '1.2.3',
      'é.unicode': 'ü',
    }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
}

/** Spans of every shape the SDK makes: all attribute types, events, links, status, trace state, two resources and scopes. */
function spansOfEveryShape(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const builder = providerWith(exporter, 'iib-builder');
  const scheduler = providerWith(exporter, 'iib-scheduler');
  const steps = builder.getTracer('iib.steps', '0.0.1');
  const rhea = builder.getTracer('@iib/instrumentation-rhea');
  const other = scheduler.getTracer('other');

  const remote = trace.setSpanContext(context.active(), {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: createTraceState('vendor=abc,other=1'),
  });
  const parent = steps.startSpan('build index image', { kind: SpanKind.INTERNAL }, remote);
  const everyType: Attributes = {
    str: 's',
    empty: '',
    unicode: 'gr\u00fc\u00dfe \u{1F680}',
    long: 'x'.repeat(300),
    int: 42,
    negative: -7,
    big: 2 ** 40,
    huge: 2 ** 62,
    min: -(2 ** 63),
    double: 1.5,
    nan: NaN,
    inf: Infinity,
    yes: true,
    no: false,
    strings: ['a', 'b'],
    numbers: [1, 2.5, -3],
    bools: [true, false],
    holes: ['a', null, undefined, 'b'],
    emptyList: [],
  };
  const child = rhea.startSpan(
    'send /amq/queue/iib.build.serial.iib',
    {
      kind: SpanKind.PRODUCER,
      attributes: everyType,
      links: [
        { context: parent.spanContext(), attributes: { why: 'retry' } },
        { context: trace.getSpanContext(remote)! },
      ],
    },
    trace.setSpan(context.active(), parent),
  );
  child.addEvent('checkpoint', { at: 3, bytes: 'x'.repeat(200) });
  child.addEvent('bare');
  child.recordException(new Error('boom \u00e9'));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  child.end();
  parent.setStatus({ code: SpanStatusCode.OK });
  parent.end();
  // Big enough that lengths need three-byte varints.
  const large = other.startSpan('large', {
    kind: SpanKind.CONSUMER,
    attributes: { blob: 'y'.repeat(20_000) },
  });
  large.end();
  for (const kind of [SpanKind.SERVER, SpanKind.CLIENT]) other.startSpan(`root ${kind}`, { kind }).end();
  return exporter.getFinishedSpans();
}

describe('one-pass OTLP span encoder', () => {
  it('when spans of every shape are encoded, then the bytes are those of the OpenTelemetry serializer', () => {
    const spans = spansOfEveryShape();
    const ours = Buffer.from(new OtlpSpanEncoder().encode(spans));
    const library = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    expect(ours.length).toBe(library.length);
    expect(ours.equals(library)).toBe(true);
  });

  it('when spans are appended one by one into sections per resource and scope, then the request is the library’s bytes, batch after batch', () => {
    const spans = spansOfEveryShape();
    const envelope = new OtlpSpanEncoder(16);
    const sections: SpanSections = new Map();
    for (const batch of [spans, spans.slice(1, 3), [...spans, ...spans]]) {
      for (const span of batch) sectionOf(sections, span, 16).appendSpan(span);
      const ours = Buffer.from(envelope.request(sections));
      expect(ours.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(batch)!))).toBe(true);
      for (const scopes of sections.values())
        for (const section of scopes.values()) expect(section.length).toBe(0);
    }
  });

  it('when a batch outgrows the working buffer, then it grows and later batches stay correct', () => {
    const spans = spansOfEveryShape();
    const encoder = new OtlpSpanEncoder(16); // forces several growths
    for (const batch of [spans, spans.slice(0, 2), [...spans, ...spans]]) {
      const ours = Buffer.from(encoder.encode(batch));
      expect(ours.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(batch)!))).toBe(true);
    }
  });

  it('when attributes repeat across spans and batches, and some keys take ever new values, then the bytes stay the library’s', () => {
    const exporter = new InMemorySpanExporter();
    const tracer = providerWith(exporter, 'iib-scheduler').getTracer('@iib/instrumentation-rhea');
    for (let i = 0; i < 60; i += 1) {
      tracer
        .startSpan(i % 2 ? 'send /amq/queue/lane' : 'process /amq/queue/requests', {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'rabbitmq', // always the same
            'server.port': 5672,
            'messaging.message.id': `id-${i}`, // new every time: the key stops being cached
            'iib.request.id': 1000 + i,
            'amqp.delivery.outcome': i % 3 ? 'accepted' : 'released', // a few values
            mixed: i % 2 ? 'one' : 1, // the same key with a string and a number
            flag: i % 2 === 0,
            unicode: 'gr\u00fc\u00dfe',
            long: 'z'.repeat(300), // too long to cache
          },
        })
        .end();
    }
    const spans = exporter.getFinishedSpans();
    const encoder = new OtlpSpanEncoder();
    for (const batch of [spans.slice(0, 10), spans, spans.slice(30), spans]) {
      const ours = Buffer.from(encoder.encode(batch));
      expect(ours.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(batch)!))).toBe(true);
    }
  });

  it('when a result is kept, then the next batch does not overwrite it', () => {
    const spans = spansOfEveryShape();
    const encoder = new OtlpSpanEncoder();
    const first = encoder.encode(spans);
    const copy = Buffer.from(first);
    encoder.encode(spans.slice(1));
    expect(Buffer.from(first).equals(copy)).toBe(true);
  });

  it("when the request is decoded, then ids, parents, times and attributes are the spans' own", () => {
    const spans = spansOfEveryShape();
    const decoded = decodeProtobufRequest(Buffer.from(new OtlpSpanEncoder().encode(spans)));
    expect(decoded).toHaveLength(spans.length);
    for (const span of spans) {
      const got = decoded.find((d) => d.spanId === span.spanContext().spanId);
      expect(got).toBeDefined();
      expect(got!.traceId).toBe(span.spanContext().traceId);
      expect(got!.parentSpanId).toBe(span.parentSpanContext?.spanId);
      expect(got!.name).toBe(span.name);
      const nanos = BigInt(span.startTime[0]) * 1_000_000_000n + BigInt(span.startTime[1]);
      expect(got!.startTimeUnixNano).toBe(nanos.toString());
      expect(got!.serviceName).toBe(span.resource.attributes['service.name']);
    }
    const producer = decoded.find((d) => d.kind === 'PRODUCER')!;
    expect(producer.attributes.unicode).toBe('gr\u00fc\u00dfe \u{1F680}');
    expect(producer.attributes.min).toBe(-(2 ** 63));
    expect(producer.attributes.numbers).toEqual([1, 2.5, -3]);
    expect(producer.links).toHaveLength(2);
  });
});

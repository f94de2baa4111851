import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';

describe('test OTLP receiver', () => {
  let receiver: OtlpReceiver;
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    await receiver.stop();
  });

  it('when spans arrive as OTLP protobuf, then they are decoded with ids, parent, kind, status and resource', async () => {
    const memory = new InMemorySpanExporter();
    const tracer = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'iib-scheduler' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    }).getTracer('receiver-test');
    const parent = tracer.startSpan('route', { kind: SpanKind.CONSUMER, attributes: { lane: 'serial' } });
    parent.setStatus({ code: SpanStatusCode.ERROR, message: 'no lane' });
    parent.end();
    // The exporter's own serializer; its HTTP transport (a dynamic import jest
    // cannot run) is exercised by the child-process tests.
    const payload = ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!;
    const response = await fetch(receiver.tracesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: payload,
    });
    expect(response.status).toBe(200);
    expect(receiver.spans()).toEqual([
      expect.objectContaining({
        traceId: parent.spanContext().traceId,
        spanId: parent.spanContext().spanId,
        parentSpanId: undefined,
        name: 'route',
        kind: 'CONSUMER',
        attributes: { lane: 'serial' },
        serviceName: 'iib-scheduler',
        status: { code: 'ERROR', message: 'no lane' },
        scope: { name: 'receiver-test', version: undefined },
      }),
    ]);
  });

  it('when an OTLP/JSON request arrives, then it is decoded the same way', async () => {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'iib-notifier' } }] },
          scopeSpans: [
            {
              scope: { name: 'json-test' },
              spans: [
                {
                  traceId: '0af7651916cd43dd8448eb211c80319c',
                  spanId: 'b7ad6b7169203331',
                  parentSpanId: '00f067aa0ba902b7',
                  name: 'publish',
                  kind: 4,
                  attributes: [{ key: 'n', value: { intValue: '3' } }],
                  status: { code: 1 },
                },
              ],
            },
          ],
        },
      ],
    };
    const response = await fetch(receiver.tracesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    expect(receiver.spans()[0]).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      parentSpanId: '00f067aa0ba902b7',
      kind: 'PRODUCER',
      attributes: { n: 3 },
      serviceName: 'iib-notifier',
      status: { code: 'OK' },
    });
  });

  it('when stopped, then it refuses connections, and when started again, then it serves on the same URL', async () => {
    await receiver.stop();
    await expect(fetch(receiver.tracesUrl, { method: 'POST', body: '{}' })).rejects.toThrow();
    await receiver.start();
    const response = await fetch(receiver.tracesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(200);
  });

  it('when waitFor times out, then it rejects listing what was received', async () => {
    await expect(receiver.waitFor((spans) => spans.length > 0, 50)).rejects.toThrow('got 0 spans');
  });
});

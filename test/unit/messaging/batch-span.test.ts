import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { sendBatch, type BatchMessage } from '../../../shared/messaging/batch-span';
import { startMemoryTracing, warmUp } from '../tracing/memory-tracing';

const { exporter } = startMemoryTracing();
const tracer = trace.getTracer('unit');
const connection = {
  options: { host: 'broker.example', port: 5671, password: 'hunter2' },
  container_id: 'c-1',
};

beforeAll(() => warmUp(exporter));
beforeEach(() => exporter.reset());

/** A send whose outcome the test decides, recording the headers it was given and whether tracing was suppressed. */
function controlledSend(address: string) {
  const seen: { headers?: Record<string, string>; suppressed?: boolean } = {};
  let settle!: (err?: Error) => void;
  const message: BatchMessage<string> = {
    address,
    send: (headers) => {
      seen.headers = { ...headers };
      seen.suppressed = isTracingSuppressed(context.active());
      return new Promise<string>((resolve, reject) => {
        settle = (err) => (err ? reject(err) : resolve(address));
      });
    },
  };
  return { message, seen, settle: (err?: Error) => settle(err) };
}

/** Lets the batch's sends start (they run after its span is made). */
const tick = () => new Promise((r) => setImmediate(r));

/** A batch of controlled sends to `addresses`, started; its sends have begun when this resolves. */
async function startBatch(addresses: string[], creation: Record<string, string> = {}) {
  const sends = addresses.map(controlledSend);
  const done = sendBatch(
    creation,
    connection,
    sends.map((s) => s.message),
  );
  await tick();
  return { sends, done };
}

describe('sendBatch', () => {
  it('when the messages go to several addresses, then one PRODUCER span "send" covers them, a child of the creation context, carried by every message', async () => {
    const request = tracer.startSpan('request');
    const creation: Record<string, string> = {};
    propagation.inject(trace.setSpan(ROOT_CONTEXT, request), creation);
    const { sends, done } = await startBatch(['/amq/queue/a', '/amq/queue/b', '/amq/queue/b'], creation);
    sends[0]!.settle();
    sends[1]!.settle();
    await tick();
    // Not before every send has its outcome.
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    sends[2]!.settle();
    expect((await done).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    request.end();

    const batch = exporter.getFinishedSpans().filter((s) => s.name === 'send');
    expect(batch).toHaveLength(1);
    const span = batch[0]!;
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(span.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(span.attributes).toEqual({
      'messaging.system': 'rabbitmq',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.batch.message_count': 3,
      'messaging.client.id': 'c-1',
      'server.address': 'broker.example',
      'server.port': 5671,
    });
    const { traceId, spanId } = span.spanContext();
    for (const s of sends) {
      expect(s.seen.headers?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
      // The rhea instrumentation must not add a span per message.
      expect(s.seen.suppressed).toBe(true);
    }
    expect(JSON.stringify(span.attributes)).not.toContain('hunter2');
  });

  it('when every message goes to one address and no creation context is stored, then the root span is named after the address', async () => {
    const { sends, done } = await startBatch(['/amq/queue/a', '/amq/queue/a']);
    sends.forEach((s) => s.settle());
    await done;
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('send /amq/queue/a');
    expect(span?.attributes['messaging.destination.name']).toBe('/amq/queue/a');
    expect(span?.parentSpanContext).toBeUndefined();
  });

  it('when the batch is one message, then it carries no batch count', async () => {
    const { sends, done } = await startBatch(['/amq/queue/a']);
    sends[0]!.settle();
    await done;
    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes).not.toHaveProperty('messaging.batch.message_count');
  });

  it('when a send fails, then its result is the rejection, the others still succeed, and the span ends with ERROR', async () => {
    const { sends, done } = await startBatch(['/amq/queue/a', '/amq/queue/b']);
    sends[0]!.settle(new Error('broker rejected the message to /amq/queue/a'));
    sends[1]!.settle();
    const results = await done;
    expect(results[0]).toEqual({
      status: 'rejected',
      reason: new Error('broker rejected the message to /amq/queue/a'),
    });
    expect(results[1]).toEqual({ status: 'fulfilled', value: '/amq/queue/b' });
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: '1 of 2 not accepted: broker rejected the message to /amq/queue/a',
    });
    expect(span?.events.map((e) => e.name)).toEqual(['exception']);
  });
});

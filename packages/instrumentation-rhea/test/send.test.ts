import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import rhea from 'rhea';
import { eventually, finished, startMemoryTracing, warmUp } from './support/memory-tracing';
import { newSender, sentMessage } from './support/fake-rhea';

const { exporter, rhea: instrumentation } = startMemoryTracing({ settleTimeoutMs: 60_000 });
const tracer = trace.getTracer('unit');

beforeAll(() => warmUp(exporter));
beforeEach(() => exporter.reset());

describe('rhea instrumentation: send', () => {
  it('when a message is sent, then the span stays open until the broker accepts it, and ends OK', () => {
    const sender = newSender();
    const delivery = sender.send({ body: 'hello', message_id: 'm-1', correlation_id: 'c-9' });
    expect(finished(exporter, 'send /queue/orders')).toHaveLength(0);

    sender.dispatch('accepted', { delivery });
    const [span] = finished(exporter, 'send /queue/orders');
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.status.code).toBe(SpanStatusCode.OK);
    expect(span?.attributes).toEqual({
      'messaging.system': 'rabbitmq',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.destination.name': '/queue/orders',
      'messaging.message.id': 'm-1',
      'messaging.message.conversation_id': 'c-9',
      'messaging.client.id': 'c-1',
      'server.address': 'broker.example',
      'server.port': 5671,
      'amqp.delivery.outcome': 'accepted',
    });
  });

  it.each(['rejected', 'released', 'modified'])(
    'when the broker answers %s, then the span ends with ERROR',
    (outcome) => {
      const sender = newSender();
      const delivery = sender.send({ body: 'x' });
      delivery.remote_state = { error: { condition: 'amqp:precondition-failed' } };
      sender.dispatch(outcome, { delivery });
      const [span] = finished(exporter, 'send /queue/orders');
      expect(span?.status.code).toBe(SpanStatusCode.ERROR);
      expect(span?.attributes['error.type']).toBe(`amqp:${outcome}`);
    },
  );

  it('when the message is sent, then traceparent/tracestate are strings on a copy, and the caller object is untouched', () => {
    const sender = newSender();
    const original = { body: 'x', application_properties: { keep: 'me' } };
    const delivery = tracer.startActiveSpan('parent', (parent) => {
      const d = sender.send(original);
      parent.end();
      return d;
    });
    const props = sentMessage(delivery).application_properties as Record<string, unknown>;
    expect(original.application_properties).toEqual({ keep: 'me' });
    expect(props.keep).toBe('me');
    expect(typeof props.traceparent).toBe('string');
    sender.dispatch('accepted', { delivery });
    const [span] = finished(exporter, 'send /queue/orders');
    expect(props.traceparent).toBe(`00-${span!.spanContext().traceId}-${span!.spanContext().spanId}-01`);
    expect(span?.parentSpanContext?.spanId).toBe(finished(exporter, 'parent')[0]!.spanContext().spanId);
  });

  it('when there is no active span and the message carries a traceparent, then it is the parent', () => {
    const sender = newSender();
    const stored = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const delivery = context.with(ROOT_CONTEXT, () =>
      sender.send({ body: 'x', application_properties: { traceparent: stored } }),
    );
    sender.dispatch('accepted', { delivery });
    const [span] = finished(exporter, 'send /queue/orders');
    expect(span?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
  });

  it('when there is an active span and the message carries another traceparent, then that one is only linked', () => {
    const sender = newSender();
    const stored = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const delivery = tracer.startActiveSpan('ambient', (ambient) => {
      const d = sender.send({ body: 'x', application_properties: { traceparent: stored } });
      ambient.end();
      return d;
    });
    sender.dispatch('accepted', { delivery });
    const [span] = finished(exporter, 'send /queue/orders');
    expect(span?.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span?.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
  });

  it('when tracing is suppressed, then the send makes no span and the message goes out as given', () => {
    const sender = newSender();
    const stored = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const message = { body: 'x', application_properties: { traceparent: stored } };
    const delivery = tracer.startActiveSpan('ambient', (ambient) => {
      const d = context.with(suppressTracing(context.active()), () => sender.send(message));
      ambient.end();
      return d;
    });
    expect(sentMessage(delivery).application_properties).toEqual({ traceparent: stored });
    sender.dispatch('accepted', { delivery });
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['ambient']);
  });

  it('when the link is pre-settled, then the span ends at once without an outcome', () => {
    const sender = newSender({ snd_settle_mode: 1 });
    sender.send({ body: 'x' });
    const [span] = finished(exporter, 'send /queue/orders');
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(span?.attributes['amqp.delivery.outcome']).toBe('settled');
  });

  it('when a pre-encoded payload is sent, then the span is CLIENT and nothing is injected', () => {
    const sender = newSender();
    const payload = rhea.message.encode({ body: 'x' });
    const delivery = sender.send(payload, undefined, 0);
    expect(delivery.data).toBe(payload);
    sender.dispatch('accepted', { delivery });
    expect(finished(exporter, 'send /queue/orders')[0]?.kind).toBe(SpanKind.CLIENT);
  });

  it('when the sender closes or the connection drops with deliveries unsettled, then their spans end with ERROR', () => {
    const closing = newSender();
    closing.send({ body: '1' });
    closing.dispatch('sender_close', {});
    const dropping = newSender();
    dropping.send({ body: '2' });
    dropping._disconnect();
    const errors = finished(exporter, 'send /queue/orders').map((s) => s.attributes['error.type']);
    expect(errors).toEqual(['link_closed', 'connection_lost']);
  });

  it('when recordBodySize is on, then a send span carries messaging.message.body.size (opt-in, off by default)', () => {
    const config = instrumentation.getConfig();
    instrumentation.setConfig({ ...config, recordBodySize: true });
    try {
      const sender = newSender();
      sender.dispatch('accepted', { delivery: sender.send({ body: 'héllo' }) });
    } finally {
      instrumentation.setConfig(config);
    }
    const [span] = finished(exporter, 'send /queue/orders');
    expect(span?.attributes['messaging.message.body.size']).toBe(6);
  });

  it('when nobody settles a delivery, then its span ends after the settle timeout', async () => {
    const config = instrumentation.getConfig();
    instrumentation.setConfig({ ...config, settleTimeoutMs: 50 });
    try {
      newSender().send({ body: 'x' });
      await eventually(
        () => finished(exporter, 'send /queue/orders').length === 1,
        'the timed-out send span',
      );
      expect(finished(exporter, 'send /queue/orders')[0]?.attributes['error.type']).toBe('settle_timeout');
    } finally {
      instrumentation.setConfig(config);
    }
  });
});

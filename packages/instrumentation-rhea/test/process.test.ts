import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { pendingCount } from '../src/pending';
import { finished, startMemoryTracing, warmUp } from './support/memory-tracing';
import {
  type FakeDelivery,
  incomingDelivery,
  newSender,
  newReceiver,
  deliver,
  sentMessage,
} from './support/fake-rhea';

const { exporter } = startMemoryTracing({ settleTimeoutMs: 60_000 });
const tracer = trace.getTracer('unit');

beforeAll(() => warmUp(exporter));
beforeEach(() => exporter.reset());

describe('rhea instrumentation: process', () => {
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('when a message arrives, then the process span is a child of the creation context, with a link to it', () => {
    const receiver = newReceiver();
    let active: string | undefined;
    receiver.on('message', (ctx) => {
      active = trace.getActiveSpan()?.spanContext().spanId;
      ctx.delivery.accept();
    });
    deliver(receiver, { body: 'x', message_id: 'm-2', application_properties: { traceparent } });
    const [span] = finished(exporter, 'process /queue/orders');
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(span?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span?.links.map((l) => l.context.spanId)).toEqual(['00f067aa0ba902b7']);
    expect(active).toBe(span?.spanContext().spanId);
    expect(span?.status.code).toBe(SpanStatusCode.OK);
    expect(span?.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.message.id': 'm-2',
    });
  });

  it('when the handler is async, then the span ends only when it settles, and its sends are children', async () => {
    const receiver = newReceiver();
    const sender = newSender({ target: { address: '/queue/next' } });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let settled!: () => void;
    const done = new Promise<void>((resolve) => (settled = resolve));
    receiver.on('message', async (ctx) => {
      entered();
      await gate;
      const d = sender.send({ body: 'next' });
      sender.dispatch('accepted', { delivery: d });
      ctx.delivery.accept();
      settled();
    });
    deliver(receiver, { body: 'x', application_properties: { traceparent } });
    await inHandler;
    expect(finished(exporter, 'process /queue/orders')).toHaveLength(0);
    release();
    await done;
    const [process] = finished(exporter, 'process /queue/orders');
    const [child] = finished(exporter, 'send /queue/next');
    expect(child?.parentSpanContext?.spanId).toBe(process?.spanContext().spanId);
  });

  it.each([
    ['release', 'amqp:released'],
    ['reject', 'amqp:rejected'],
    ['modified', 'amqp:modified'],
  ] as const)('when the handler calls %s, then the span ends with ERROR %s', (method, errorType) => {
    const receiver = newReceiver();
    receiver.on('message', (ctx) => ctx.delivery[method]());
    deliver(receiver, { body: 'x' });
    const [span] = finished(exporter, 'process /queue/orders');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe(errorType);
  });

  it('when rhea auto-accepts, then the span still covers the listeners and ends after them', () => {
    const receiver = newReceiver({ autoaccept: true });
    let activeInListener = false;
    receiver.on('message', () => {
      activeInListener = trace.getActiveSpan() !== undefined;
    });
    const delivery = deliver(receiver, { body: 'x' });
    expect(delivery.outcomes).toHaveLength(1);
    expect(activeInListener).toBe(true);
    expect(finished(exporter, 'process /queue/orders')[0]?.status.code).toBe(SpanStatusCode.OK);
  });

  it('when the listener throws, then the span records the exception with ERROR and the error propagates', () => {
    const receiver = newReceiver();
    receiver.on('message', () => {
      throw new TypeError('boom');
    });
    expect(() => deliver(receiver, { body: 'x' })).toThrow('boom');
    const [span] = finished(exporter, 'process /queue/orders');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('when the receiver closes with a message unsettled, then its span ends with ERROR link_closed', () => {
    const receiver = newReceiver();
    receiver.on('message', () => undefined);
    deliver(receiver, { body: 'x' });
    expect(finished(exporter, 'process /queue/orders')).toHaveLength(0);
    receiver.dispatch('receiver_close', {});
    expect(finished(exporter, 'process /queue/orders')[0]?.attributes['error.type']).toBe('link_closed');
  });

  it('when only Diagnostic-Id carries the context, then it is used', () => {
    const receiver = newReceiver();
    receiver.on('message', (ctx) => ctx.delivery.accept());
    deliver(receiver, { body: 'x', application_properties: { 'Diagnostic-Id': traceparent } });
    expect(finished(exporter, 'process /queue/orders')[0]?.parentSpanContext?.spanId).toBe(
      '00f067aa0ba902b7',
    );
  });

  it('when the message was pre-settled by the broker, then the span ends after the listeners', () => {
    const receiver = newReceiver();
    receiver.on('message', () => undefined);
    const delivery = incomingDelivery();
    delivery.remote_settled = true;
    deliver(receiver, { body: 'x' }, delivery);
    expect(finished(exporter, 'process /queue/orders')).toHaveLength(1);
  });

  it('when the producer sampled the trace out, then nothing is recorded or tracked, and the unsampled context travels on', () => {
    const receiver = newReceiver();
    const sender = newSender({ target: { address: '/queue/next' } });
    const unsampled = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    let forwarded: FakeDelivery | undefined;
    const delivery = incomingDelivery();
    const updateOf = (d: object): unknown => Object.getOwnPropertyDescriptor(d, 'update')?.value;
    const update = updateOf(delivery);
    receiver.on('message', (ctx) => {
      forwarded = sender.send({ body: 'next' });
      ctx.delivery.accept();
    });
    deliver(receiver, { body: 'x', application_properties: { traceparent: unsampled } }, delivery);
    expect(pendingCount(receiver)).toBe(0);
    expect(pendingCount(sender)).toBe(0);
    expect(updateOf(delivery)).toBe(update); // no settlement hook on a span that records nothing
    expect(delivery.outcomes).toHaveLength(1);
    const carried = sentMessage(forwarded!).application_properties as Record<string, string>;
    expect(carried.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
    sender.dispatch('accepted', { delivery: forwarded! });
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('when no context is carried, then the process span is a root span whatever the ambient context', () => {
    const receiver = newReceiver();
    receiver.on('message', (ctx) => ctx.delivery.accept());
    tracer.startActiveSpan('connection-opener', (opener) => {
      deliver(receiver, { body: 'x' });
      opener.end();
    });
    const [span] = finished(exporter, 'process /queue/orders');
    expect(span?.parentSpanContext).toBeUndefined();
    expect(propagation.getBaggage(context.active())).toBeUndefined();
  });
});

import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import rhea from 'rhea';
import { pendingCount } from '../../../shared/tracing/rhea-pending';
import { eventually, finished, startMemoryTracing, warmUp } from './memory-tracing';

/*
 * rhea's real Sender/Receiver (lib/link.js) on a fake session: the broker's
 * outcomes are dispatched by hand, so every path (rejected, released,
 * pre-settled, close, disconnect, timeout) is reachable without a broker.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const linkModule = require('rhea/lib/link.js') as {
  Sender: new (session: unknown, name: string, handle: number, opts: object) => FakeLink;
  Receiver: new (session: unknown, name: string, handle: number, opts: object) => FakeLink;
};

interface FakeLink {
  send(msg: unknown, tag?: unknown, format?: number): FakeDelivery;
  dispatch(name: string, ctx: object): boolean;
  on(name: string, listener: (ctx: { message: rhea.Message; delivery: FakeDelivery }) => unknown): void;
  _disconnect(): void;
}

interface FakeDelivery {
  id?: number;
  data?: Buffer;
  settled: boolean;
  remote_settled: boolean;
  remote_state?: unknown;
  update(settled?: boolean, state?: unknown): void;
  accept(): void;
  release(): void;
  reject(error?: unknown): void;
  modified(params?: object): void;
}

const { exporter, rhea: instrumentation } = startMemoryTracing({ settleTimeoutMs: 60_000 });
const tracer = trace.getTracer('unit');

type Outcome = 'accepted' | 'released' | 'rejected' | 'modified';
// rhea's typings do not declare the outcome constructors of `message`.
const outcomes = rhea.message as unknown as Record<Outcome, (fields?: object) => { described(): unknown }>;

function fakeSession() {
  let ids = 0;
  const connection = {
    options: {
      id: 'conn-1',
      host: 'broker.example',
      port: 5671,
      username: 'svc',
      password: 'hunter2',
      container_id: 'c-1',
    },
    container_id: 'c-1',
    _register: () => undefined,
  };
  return {
    connection,
    options: {},
    get_option: (_name: string, fallback: unknown) => fallback,
    dispatch: () => false,
    remove_link: () => undefined,
    _context: (c: object) => c,
    send: (_link: unknown, tag: unknown, data: Buffer): FakeDelivery =>
      ({ id: ids++, tag, data, settled: false, remote_settled: false }) as unknown as FakeDelivery,
  };
}

// Like rhea's per-delivery closures: each calls this.update with its outcome.
const settleMethods = {
  accept(this: FakeDelivery) {
    this.update(undefined, outcomes.accepted().described());
  },
  release(this: FakeDelivery) {
    this.update(undefined, outcomes.released().described());
  },
  reject(this: FakeDelivery) {
    this.update(undefined, outcomes.rejected({}).described());
  },
  modified(this: FakeDelivery) {
    this.update(undefined, outcomes.modified({}).described());
  },
};

function incomingDelivery(): FakeDelivery & { outcomes: unknown[] } {
  const d = {
    settled: false,
    remote_settled: false,
    outcomes: [] as unknown[],
    update(settled?: boolean, state?: unknown) {
      d.outcomes.push(state);
      d.settled = settled ?? true;
    },
    ...settleMethods,
  };
  return d;
}

const newSender = (opts: object = {}): FakeLink =>
  new linkModule.Sender(fakeSession(), 's', 0, { target: { address: '/queue/orders' }, ...opts });
const newReceiver = (opts: object = {}): FakeLink =>
  new linkModule.Receiver(fakeSession(), 'r', 1, {
    source: { address: '/queue/orders' },
    autoaccept: false,
    ...opts,
  });

function deliver(receiver: FakeLink, message: rhea.Message, delivery = incomingDelivery()): typeof delivery {
  receiver.dispatch('message', { message, delivery, receiver });
  return delivery;
}

function sentMessage(delivery: FakeDelivery): rhea.Message {
  return rhea.message.decode(delivery.data!) as unknown as rhea.Message;
}

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

/*
 * Real rhea settles every incoming delivery through its session's incoming
 * side (`session.incoming.update(delivery, settled, state)`, a class it does
 * not export). The instrumentation watches that prototype instead of
 * wrapping each delivery.
 */
class IncomingSide {
  readonly seen: unknown[] = [];
  update(delivery: { settled: boolean }, settled: boolean, state: unknown): void {
    delivery.settled = settled;
    this.seen.push(state);
  }
}

function sessionWithIncoming() {
  return { ...fakeSession(), incoming: new IncomingSide() };
}

function rheaDelivery(incoming: IncomingSide): FakeDelivery {
  const d = {
    settled: false,
    remote_settled: false,
    // As rhea's on_transfer builds it: the closures end up in incoming.update.
    update(settled?: boolean, state?: unknown) {
      incoming.update(d, settled ?? true, state);
    },
    ...settleMethods,
  };
  return d;
}

describe("rhea instrumentation: process spans end through the session's incoming side", () => {
  const receiverOn = (session: object): FakeLink =>
    new linkModule.Receiver(session, 'r', 1, { source: { address: '/queue/watched' }, autoaccept: false });

  it('when a handler accepts later, then the span ends OK then, and the delivery keeps its own update', async () => {
    const session = sessionWithIncoming();
    const receiver = receiverOn(session);
    let settle!: () => void;
    receiver.on('message', (ctx) => {
      settle = () => ctx.delivery.accept();
    });
    const delivery = rheaDelivery(session.incoming);
    const updateOf = (d: object): unknown => Object.getOwnPropertyDescriptor(d, 'update')?.value;
    const update = updateOf(delivery);
    receiver.dispatch('message', { message: { body: 'x' }, delivery, receiver });
    expect(finished(exporter, 'process /queue/watched')).toHaveLength(0);
    expect(pendingCount(receiver)).toBe(1);

    await Promise.resolve();
    settle();
    const [span] = finished(exporter, 'process /queue/watched');
    expect(span?.status.code).toBe(SpanStatusCode.OK);
    expect(span?.attributes['amqp.delivery.outcome']).toBe('accepted');
    expect(updateOf(delivery)).toBe(update);
    expect(session.incoming.seen).toHaveLength(1); // rhea's own update still ran
    expect(pendingCount(receiver)).toBe(0);
  });

  it('when the listener settles at once, then the span still covers the listener and ends after it', () => {
    const session = sessionWithIncoming();
    const receiver = receiverOn(session);
    let endedDuringListener: number | undefined;
    receiver.on('message', (ctx) => {
      ctx.delivery.release();
      endedDuringListener = finished(exporter, 'process /queue/watched').length;
    });
    receiver.dispatch('message', {
      message: { body: 'x' },
      delivery: rheaDelivery(session.incoming),
      receiver,
    });
    expect(endedDuringListener).toBe(0);
    const [span] = finished(exporter, 'process /queue/watched');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('amqp:released');
  });

  it("when rhea's link module is unpatched, then the incoming side is rhea's own again", () => {
    const session = sessionWithIncoming();
    const receiver = receiverOn(session);
    receiver.dispatch('message', {
      message: { body: 'x' },
      delivery: rheaDelivery(session.incoming),
      receiver,
    });
    const proto = IncomingSide.prototype as unknown as { update: { __wrapped?: boolean } };
    expect(proto.update.__wrapped).toBe(true);
    instrumentation.unpatchLinkModule(linkModule);
    try {
      expect(proto.update.__wrapped).toBeUndefined();
    } finally {
      instrumentation.patchLinkModule(linkModule);
    }
  });
});

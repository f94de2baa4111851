import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import rhea, { type Connection, type EventContext, type Sender } from 'rhea';
import { finished, startMemoryTracing, warmUp } from '../unit/tracing/memory-tracing';
import { AMQP, deleteTestQueues, requireBroker, uniqueQueue } from './tracing-support';

/*
 * The rhea instrumentation against the real RabbitMQ AMQP 1.0 broker,
 * in-process (spans in memory). The child-process test of the preload covers
 * the same path with an OTLP export.
 */
const { exporter } = startMemoryTracing();
const tracer = trace.getTracer('integration');

let connection: Connection;

beforeAll(async () => {
  await requireBroker();
  await warmUp(exporter);
  connection = rhea
    .create_container({ id: `tracing-it-${process.pid}` })
    .connect({ ...AMQP, reconnect: false });
  await new Promise<void>((resolve, reject) => {
    connection.once('connection_open', () => resolve());
    connection.once('connection_error', (ctx: EventContext) => reject(ctx.connection.error as Error));
    connection.once('disconnected', (ctx: EventContext) => reject(ctx.error ?? new Error('disconnected')));
  });
});

afterAll(async () => {
  await deleteTestQueues();
  if (!connection?.is_open()) return;
  await new Promise<void>((resolve) => {
    connection.once('connection_close', () => resolve());
    connection.close();
  });
});

beforeEach(() => exporter.reset());

function openSender(address: string): Promise<Sender> {
  return new Promise((resolve) => {
    const sender = connection.open_sender({ target: { address } });
    sender.once('sendable', () => resolve(sender));
  });
}

function accepted(sender: Sender): Promise<void> {
  return new Promise((resolve, reject) => {
    sender.once('accepted', () => resolve());
    sender.once('rejected', () => reject(new Error('rejected')));
    sender.once('released', () => reject(new Error('released')));
  });
}

describe('rhea instrumentation on the test broker', () => {
  it('when the broker accepts a send, then the PRODUCER span ends OK then and not before', async () => {
    const address = uniqueQueue('accept');
    const sender = await openSender(address);
    const acceptance = accepted(sender);
    sender.send({ body: 'hello', durable: true });
    expect(finished(exporter, `send ${address}`)).toHaveLength(0);
    await acceptance;
    const [span] = finished(exporter, `send ${address}`);
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.status.code).toBe(SpanStatusCode.OK);
    expect(span?.attributes['server.port']).toBe(AMQP.port);
    sender.close();
  });

  it('when a message is consumed by an async handler, then the CONSUMER span is a child of the send, ends at settlement, and the handler sends are children', async () => {
    const inbox = uniqueQueue('inbox');
    const outbox = uniqueQueue('outbox');
    const forward = await openSender(outbox);
    const seen: { traceparent?: unknown; openWhileHandling?: number } = {};
    let releaseHandler!: () => void;
    const gate = new Promise<void>((resolve) => (releaseHandler = resolve));
    let inHandler!: () => void;
    const entered = new Promise<void>((resolve) => (inHandler = resolve));
    let handled!: () => void;
    const done = new Promise<void>((resolve) => (handled = resolve));

    const receiver = connection.open_receiver({
      source: { address: inbox },
      autoaccept: false,
      credit_window: 5,
    });
    const handle = async (ctx: EventContext): Promise<void> => {
      seen.traceparent = ctx.message?.application_properties?.traceparent;
      inHandler();
      await gate;
      const forwarded = accepted(forward);
      forward.send({ body: 'forwarded', durable: true });
      await forwarded;
      ctx.delivery?.accept();
      handled();
    };
    receiver.on('message', (ctx: EventContext) => void handle(ctx));

    const sender = await openSender(inbox);
    tracer.startActiveSpan('request', (request) => {
      sender.send({ body: 'work', durable: true, message_id: 'req-1' });
      request.end();
    });
    await entered;
    seen.openWhileHandling = finished(exporter, `process ${inbox}`).length;
    releaseHandler();
    await done;

    const send = finished(exporter, `send ${inbox}`)[0]!;
    const process = finished(exporter, `process ${inbox}`)[0]!;
    const child = finished(exporter, `send ${outbox}`)[0]!;
    expect(seen.openWhileHandling).toBe(0);
    expect(typeof seen.traceparent).toBe('string');
    expect(seen.traceparent).toBe(`00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`);
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(process.spanContext().traceId).toBe(send.spanContext().traceId);
    expect(process.links[0]?.context.spanId).toBe(send.spanContext().spanId);
    expect(process.status.code).toBe(SpanStatusCode.OK);
    expect(process.attributes['messaging.message.id']).toBe('req-1');
    expect(child.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    receiver.close();
    sender.close();
    forward.close();
  });

  it('when a handler releases a message, then that delivery span is ERROR and the redelivery gets its own span in the same trace', async () => {
    const address = uniqueQueue('release');
    let deliveries = 0;
    let finishedBoth!: () => void;
    const both = new Promise<void>((resolve) => (finishedBoth = resolve));
    const receiver = connection.open_receiver({ source: { address }, autoaccept: false, credit_window: 1 });
    receiver.on('message', (ctx: EventContext) => {
      deliveries++;
      if (deliveries === 1) ctx.delivery?.release();
      else {
        ctx.delivery?.accept();
        finishedBoth();
      }
    });
    const sender = await openSender(address);
    sender.send({ body: 'retry me', durable: true });
    await both;
    const spans = finished(exporter, `process ${address}`);
    expect(spans.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.OK]);
    expect(spans[0]?.attributes['error.type']).toBe('amqp:released');
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    receiver.close();
    sender.close();
  });

  it('when a receiver closes with a message unsettled, then its span ends with ERROR link_closed', async () => {
    const address = uniqueQueue('close');
    let got!: () => void;
    const received = new Promise<void>((resolve) => (got = resolve));
    const receiver = connection.open_receiver({ source: { address }, autoaccept: false, credit_window: 1 });
    receiver.on('message', () => got());
    const sender = await openSender(address);
    sender.send({ body: 'never settled', durable: true });
    await received;
    const closed = new Promise<void>((resolve) => receiver.once('receiver_close', () => resolve()));
    receiver.close();
    await closed;
    const [span] = finished(exporter, `process ${address}`);
    expect(span?.attributes['error.type']).toBe('link_closed');
    sender.close();
  });
});

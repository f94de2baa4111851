import { SpanStatusCode } from '@opentelemetry/api';
import { pendingCount } from '../src/pending';
import { finished, startMemoryTracing, warmUp } from './support/memory-tracing';
import {
  linkModule,
  type FakeLink,
  IncomingSide,
  sessionWithIncoming,
  rheaDelivery,
} from './support/fake-rhea';

const { exporter, rhea: instrumentation } = startMemoryTracing({ settleTimeoutMs: 60_000 });

beforeAll(() => warmUp(exporter));
beforeEach(() => exporter.reset());

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

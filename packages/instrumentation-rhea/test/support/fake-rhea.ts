import rhea from 'rhea';

/*
 * rhea's real Sender/Receiver (lib/link.js) on a fake session: the broker's
 * outcomes are dispatched by hand, so every path (rejected, released,
 * pre-settled, close, disconnect, timeout) is reachable without a broker.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const linkModule = require('rhea/lib/link.js') as {
  Sender: new (session: unknown, name: string, handle: number, opts: object) => FakeLink;
  Receiver: new (session: unknown, name: string, handle: number, opts: object) => FakeLink;
};

export interface FakeLink {
  send(msg: unknown, tag?: unknown, format?: number): FakeDelivery;
  dispatch(name: string, ctx: object): boolean;
  on(name: string, listener: (ctx: { message: rhea.Message; delivery: FakeDelivery }) => unknown): void;
  _disconnect(): void;
}

export interface FakeDelivery {
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

export type Outcome = 'accepted' | 'released' | 'rejected' | 'modified';
// rhea's typings do not declare the outcome constructors of `message`.
export const outcomes = rhea.message as unknown as Record<
  Outcome,
  (fields?: object) => { described(): unknown }
>;

export function fakeSession() {
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
export const settleMethods = {
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

export function incomingDelivery(): FakeDelivery & { outcomes: unknown[] } {
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

export const newSender = (opts: object = {}): FakeLink =>
  new linkModule.Sender(fakeSession(), 's', 0, { target: { address: '/queue/orders' }, ...opts });
export const newReceiver = (opts: object = {}): FakeLink =>
  new linkModule.Receiver(fakeSession(), 'r', 1, {
    source: { address: '/queue/orders' },
    autoaccept: false,
    ...opts,
  });

export function deliver(
  receiver: FakeLink,
  message: rhea.Message,
  delivery = incomingDelivery(),
): typeof delivery {
  receiver.dispatch('message', { message, delivery, receiver });
  return delivery;
}

export function sentMessage(delivery: FakeDelivery): rhea.Message {
  return rhea.message.decode(delivery.data!) as unknown as rhea.Message;
}

/*
 * Real rhea settles every incoming delivery through its session's incoming
 * side (`session.incoming.update(delivery, settled, state)`, a class it does
 * not export). The instrumentation watches that prototype instead of
 * wrapping each delivery.
 */
export class IncomingSide {
  readonly seen: unknown[] = [];
  update(delivery: { settled: boolean }, settled: boolean, state: unknown): void {
    delivery.settled = settled;
    this.seen.push(state);
  }
}

export function sessionWithIncoming() {
  return { ...fakeSession(), incoming: new IncomingSide() };
}

export function rheaDelivery(incoming: IncomingSide): FakeDelivery {
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

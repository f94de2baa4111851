import pino from 'pino';
import { DependencyError } from '../../../shared/errors';
import type { AmqpSender, InboundMessage, OutboundMessage } from '../../../shared/messaging';
import { buildStateMessage } from '../../../services/notifier/iib-message';
import { RecentIds } from '../../../services/notifier/recent-ids';
import { createRepublisher } from '../../../services/notifier/republisher';
import { stateMessagesPending, stateMessagesPublished } from '../../../shared/metrics';

const log = pino({ level: 'silent' });

/** A stand-in for AmqpSender: fails the first `failures` sends with the given error. */
function fakeSender(failures: number, error: Error = new DependencyError('down', { retryable: true })) {
  const sent: OutboundMessage[] = [];
  let calls = 0;
  const sender = {
    address: '/topic/t',
    send: async (m: OutboundMessage) => {
      calls += 1;
      if (calls <= failures) throw error;
      sent.push(m);
    },
  };
  return { sender: sender as unknown as AmqpSender, sent, calls: () => calls };
}

function event(id: string): InboundMessage {
  return {
    body: { id: 1, batch: 1, state: 'in_progress', user: 'u' },
    applicationProperties: {},
    messageId: id,
    deliveryCount: 0,
    raw: { body: '' },
  };
}

function republisher(
  sender: AmqpSender | undefined,
  signal = new AbortController().signal,
  recent = new RecentIds(),
) {
  return createRepublisher(
    {
      kind: 'build state',
      sender,
      toMessage: buildStateMessage,
      durable: true,
      recent,
      signal,
      maxBackoffMs: 1,
    },
    log,
  );
}

describe('createRepublisher', () => {
  it('when the broker fails retryably, then it keeps the event and retries until it is sent', async () => {
    const f = fakeSender(3);
    await republisher(f.sender)(event('e1'));
    expect(f.calls()).toBe(4);
    expect(f.sent.map((m) => m.correlationId)).toEqual(['e1']);
  });

  it('when an event was already delivered, then it is not sent again', async () => {
    const f = fakeSender(0);
    const handle = republisher(f.sender);
    await handle(event('e1'));
    await handle(event('e1'));
    expect(f.sent).toHaveLength(1);
  });

  it('when the broker rejects the message, then the error is not retryable (the consumer dead-letters it)', async () => {
    const f = fakeSender(1, new DependencyError('rejected', { retryable: false }));
    await expect(republisher(f.sender)(event('e1'))).rejects.toMatchObject({ retryable: false });
    expect(f.calls()).toBe(1);
  });

  it('when the notifier stops during an outage, then the handler gives up with a retryable error (the event goes back)', async () => {
    const f = fakeSender(Number.MAX_SAFE_INTEGER);
    const stop = new AbortController();
    const done = republisher(f.sender, stop.signal)(event('e1'));
    stop.abort();
    await expect(done).rejects.toMatchObject({ retryable: true });
  });

  it('when no destination is configured, then the event is consumed and nothing is sent', async () => {
    await expect(republisher(undefined)(event('e1'))).resolves.toBeUndefined();
  });

  it('when a message is held through failures, then it is pending meanwhile and published once after', async () => {
    stateMessagesPending.reset();
    stateMessagesPublished.reset();
    const value = async (m: typeof stateMessagesPending | typeof stateMessagesPublished): Promise<number> =>
      (await m.get()).values.find((v) => v.labels.kind === 'build state')?.value ?? 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const sender = {
      address: '/topic/t',
      send: async () => {
        calls += 1;
        if (calls === 1) {
          await gate;
          throw new DependencyError('down', { retryable: true });
        }
      },
    } as unknown as AmqpSender;
    const done = republisher(sender)(event('p1'));
    await new Promise((r) => setImmediate(r));
    expect(await value(stateMessagesPending)).toBe(1);
    expect(await value(stateMessagesPublished)).toBe(0);
    release();
    await done;
    expect(await value(stateMessagesPending)).toBe(0);
    expect(await value(stateMessagesPublished)).toBe(1);
  });
});

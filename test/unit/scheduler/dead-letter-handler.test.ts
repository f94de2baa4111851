import pino from 'pino';
import type { FinalStateEvent, StateUpdate } from '../../../shared/contracts';
import type { InboundMessage, Messaging, OutboundMessage } from '../../../shared/messaging';
import { createDeadLetterHandler } from '../../../services/scheduler/dead-letter-handler';

/** The part of Messaging the handler uses, recording what it sends. */
function fakeMessaging(): { messaging: Messaging; sent: { to: string; body: unknown }[] } {
  const sent: { to: string; body: unknown }[] = [];
  const sender = (to: string) => ({
    send: (m: OutboundMessage) => {
      sent.push({ to, body: m.body });
      return Promise.resolve();
    },
  });
  const messaging = {
    queueSender: (name: string) => Promise.resolve(sender(name)),
    senderTo: (target: string) => sender(target),
    queueName: (name: string) => name,
    dialect: { topicTarget: (name: string) => `topic:${name}` },
  } as unknown as Messaging;
  return { messaging, sent };
}

const message = (body: unknown): InboundMessage => ({
  body,
  applicationProperties: {},
  messageId: 'm-1',
  deliveryCount: 1,
  raw: { body: '' },
});

const request = {
  id: 12,
  request_type: 'rm',
  user: 'alice',
  batch: 4,
  params: { operators: ['op'], from_index: 'quay.io/ns/index:v1' },
  submitted_at: '2026-01-01T00:00:00.000Z',
};

describe('the dead-letter handler', () => {
  const log = pino({ level: 'silent' });

  it('when a lane message ran out of attempts, then its request is failed with that reason', async () => {
    const { messaging, sent } = fakeMessaging();
    await createDeadLetterHandler({ messaging, maxDeliveries: 5, log })(
      message({ ...request, lane: { serial: true, name: 'iib' } }),
    );
    expect((sent[0]?.body as StateUpdate).state_reason).toMatch(/^The request failed after 5 attempts/);
    expect(sent[1]?.body as FinalStateEvent).toEqual({ request_id: 12, state: 'failed' });
  });

  it('when a request message broke its contract, then its request is failed with what was wrong', async () => {
    const { messaging, sent } = fakeMessaging();
    await createDeadLetterHandler({ messaging, maxDeliveries: 5, log })(
      message({ ...request, params: { operators: [], from_index: 'quay.io/ns/index:v1' } }),
    );
    const update = sent[0]?.body as StateUpdate;
    expect(update).toMatchObject({ request_id: 12, state: 'failed', key: 'dead-letter:m-1' });
    expect(update.state_reason).toMatch(
      /^The request could not be built: its message is malformed \(.*params\.operators/,
    );
  });

  it('when a dead letter is not a request, then nothing is sent', async () => {
    const { messaging, sent } = fakeMessaging();
    const handle = createDeadLetterHandler({ messaging, maxDeliveries: 5, log });
    await handle(message({ key: 'k', request_id: 12, at: '' }));
    await handle(message('poison'));
    expect(sent).toEqual([]);
  });
});

import type { Typed } from 'rhea';
import { ValidationError } from '../../../shared/errors';
import type { InboundMessage } from '../../../shared/messaging';
import { batchStateMessage, buildStateMessage } from '../../../services/notifier/iib-message';

function event(
  body: unknown,
  applicationProperties: Record<string, unknown> = {},
  messageId = 'evt-1',
): InboundMessage {
  return { body, applicationProperties, messageId, deliveryCount: 0, raw: { body: '' } };
}

function plain(props: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(props ?? {}).map(([k, v]) => [k, v && typeof v === 'object' ? (v as Typed).value : v]),
  );
}

describe('IIB state messages', () => {
  it('when a build-state event comes, then batch and id are AMQP longs, state and user strings, and the correlation id is the event id', () => {
    const body = {
      id: 3,
      arches: [],
      batch: 2,
      request_type: 'rm',
      state: 'failed',
      state_reason: 'x',
      user: null,
    };
    const m = buildStateMessage(event(body, { traceparent: '00-a-b-01', other: 'dropped' }), true);

    expect(m.bodyText).toBe(
      '{"id": 3, "arches": [], "batch": 2, "request_type": "rm", "state": "failed", "state_reason": "x", "user": null}',
    );
    expect(plain(m.applicationProperties)).toEqual({
      batch: 2,
      id: 3,
      state: 'failed',
      user: null,
      traceparent: '00-a-b-01',
    });
    expect((m.applicationProperties?.batch as Typed).type.name).toMatch(/Long/);
    expect((m.applicationProperties?.id as Typed).type.name).toMatch(/Long/);
    expect(m).toMatchObject({ correlationId: 'evt-1', messageId: 'evt-1', durable: true });
  });

  it('when a batch-state event carries extra fields, then the body has exactly IIB’s keys in IIB’s order', () => {
    const body = {
      user: 'u',
      state: 'in_progress',
      extra: 1,
      requests: [{ request_type: 'add', id: 1, organization: 'o', more: 2 }],
      annotations: null,
      batch: 9,
    };
    const m = batchStateMessage(event(body), false);

    expect(m.bodyText).toBe(
      '{"batch": 9, "annotations": null, "requests": [{"id": 1, "organization": "o", "request_type": "add"}], "state": "in_progress", "user": "u"}',
    );
    expect(plain(m.applicationProperties)).toEqual({ batch: 9, state: 'in_progress', user: 'u' });
    expect(m.durable).toBe(false);
  });

  it('when an event is not a request or batch, then it is a ValidationError (dead-lettered, never retried)', () => {
    expect(() => buildStateMessage(event({ id: '3' }), true)).toThrow(ValidationError);
    expect(() => buildStateMessage(event('text'), true)).toThrow(ValidationError);
    expect(() => batchStateMessage(event({ batch: 1, state: 'complete', requests: 'no' }), true)).toThrow(
      ValidationError,
    );
  });
});

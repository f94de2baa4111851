import pino from 'pino';
import type { StateUpdate } from '../../../shared/contracts';
import type { InboundMessage } from '../../../shared/messaging';
import { createRecorder } from '../../../services/gateway/recorder';
import type { RequestStore } from '../../../services/gateway/store';

/** A store of our own interface that records the order updates are applied in. */
function fakeStore(delays: Record<string, number>) {
  const applied: string[] = [];
  const store = {
    applyUpdate: async (u: StateUpdate) => {
      await new Promise((r) => setTimeout(r, delays[u.key] ?? 0));
      applied.push(u.key);
      return { applied: true, changed: true };
    },
  } as unknown as RequestStore;
  return { store, applied };
}

const message = (key: string, requestId: number): InboundMessage =>
  ({
    body: { key, request_id: requestId, state: 'in_progress', state_reason: key, at: '' },
    applicationProperties: {},
    deliveryCount: 0,
  }) as unknown as InboundMessage;

describe('the state-update recorder', () => {
  it('when one request’s updates are handled at once, then they are applied in the order they arrived', async () => {
    const { store, applied } = fakeStore({ a1: 40, a2: 5, b1: 1 });
    const record = createRecorder({ store, log: pino({ level: 'silent' }), onCommitted: () => undefined });
    await Promise.all([
      record(message('a1', 1)),
      record(message('a2', 1)),
      record(message('b1', 2)),
      record(message('a3', 1)),
    ]);
    expect(applied.filter((k) => k.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    // Another request is not held up behind the slow one.
    expect(applied.indexOf('b1')).toBeLessThan(applied.indexOf('a1'));
  });

  it('when an update fails, then the next update of the request is still applied', async () => {
    const applied: string[] = [];
    const store = {
      applyUpdate: (u: StateUpdate) => {
        if (u.key === 'x1') return Promise.reject(new Error('db down'));
        applied.push(u.key);
        return Promise.resolve({ applied: true, changed: false });
      },
    } as unknown as RequestStore;
    const record = createRecorder({ store, log: pino({ level: 'silent' }), onCommitted: () => undefined });
    const first = record(message('x1', 7));
    const second = record(message('x2', 7));
    await expect(first).rejects.toThrow('recording the state update failed');
    await second;
    expect(applied).toEqual(['x2']);
  });
});

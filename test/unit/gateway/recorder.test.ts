import pino from 'pino';
import type { FinalStateEvent, StateUpdate } from '../../../shared/contracts';
import type { InboundMessage } from '../../../shared/messaging';
import { createRecorder, isTransientDbError } from '../../../services/gateway/outbox/recorder';
import type { RequestStore } from '../../../services/gateway/db/knex-store';

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

const answer = (): Promise<void> => Promise.resolve();
const silent = pino({ level: 'silent' });

const query = (key: string, requestId: number): InboundMessage =>
  ({
    body: { kind: 'state-query', key, request_id: requestId, at: '' },
    applicationProperties: {},
    deliveryCount: 0,
  }) as unknown as InboundMessage;

describe('the state-update recorder', () => {
  it('when one request’s updates are handled at once, then they are applied in the order they arrived', async () => {
    const { store, applied } = fakeStore({ a1: 40, a2: 5, b1: 1 });
    const record = createRecorder({
      store,
      log: pino({ level: 'silent' }),
      onCommitted: () => undefined,
      answer,
    });
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
    const record = createRecorder({
      store,
      log: pino({ level: 'silent' }),
      onCommitted: () => undefined,
      answer,
    });
    const first = record(message('x1', 7));
    const second = record(message('x2', 7));
    await expect(first).rejects.toThrow('recording the state update failed');
    await second;
    expect(applied).toEqual(['x2']);
  });

  it('when a state query follows a slow final update of its request, then it is answered after that update, with its state', async () => {
    let state = 'in_progress';
    const store = {
      applyUpdate: async () => {
        await new Promise((r) => setTimeout(r, 50));
        state = 'complete';
        return { applied: true, changed: true };
      },
      get: () => Promise.resolve({ state }),
    } as unknown as RequestStore;
    const answers: FinalStateEvent[] = [];
    const record = createRecorder({
      store,
      log: silent,
      onCommitted: () => undefined,
      answer: (e) => {
        answers.push(e);
        return Promise.resolve();
      },
    });
    await Promise.all([record(message('final', 3)), record(query('q1', 3))]);
    expect(answers).toEqual([{ request_id: 3, state: 'complete', answer_to: 'q1' }]);
  });

  it('when PostgreSQL is away, then the failure is retryable; when the update itself is bad data, then it is not', async () => {
    const failing = (err: Error) =>
      createRecorder({
        store: { applyUpdate: () => Promise.reject(err) } as unknown as RequestStore,
        log: silent,
        onCommitted: () => undefined,
        answer,
      })(message('k', 1));
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    await expect(failing(down)).rejects.toMatchObject({ retryable: true });
    const pool = new Error('Knex: Timeout acquiring a connection. The pool is probably full.');
    await expect(failing(pool)).rejects.toMatchObject({ retryable: true });
    const bad = Object.assign(new Error('invalid byte sequence'), { code: '22021' });
    await expect(failing(bad)).rejects.toMatchObject({ retryable: false });
    expect(isTransientDbError(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
    expect(isTransientDbError(Object.assign(new Error('x'), { code: '23505' }))).toBe(false);
  });
});

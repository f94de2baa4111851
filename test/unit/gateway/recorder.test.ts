import pino from 'pino';
import type { FinalStateEvent } from '../../../shared/contracts';
import type { InboundMessage } from '../../../shared/messaging';
import { isTransientDbError } from '../../../services/gateway/db/errors';
import { createRecorder } from '../../../services/gateway/outbox/recorder';
import { submitRequests } from '../../../services/gateway/requests/submit';
import { MemoryRequestStore } from '../../support/memory-request-store';

/** The in-memory store with two requests (ids 1 and 2); `applied` lists the keys claimed, in order. */
async function storeOf(delays: Record<string, number> = {}) {
  const store = new MemoryRequestStore();
  const applied: string[] = [];
  store.onClaim = async (key) => {
    await new Promise((r) => setTimeout(r, delays[key] ?? 0));
    applied.push(key);
  };
  for (let i = 0; i < 2; i += 1) {
    await submitRequests(store, undefined, [
      { type: 'create-empty-index', user: 'u', params: { from_index: 'r/i:1' } },
    ]);
  }
  return { store, applied };
}

const message = (key: string, requestId: number, state = 'in_progress'): InboundMessage =>
  ({
    body: { key, request_id: requestId, state, state_reason: key, at: '' },
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
    const { store, applied } = await storeOf({ a1: 40, a2: 5, b1: 1 });
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
    expect((await store.history(1)).map((h) => h.state_reason)).toEqual([
      'a3',
      'a2',
      'a1',
      'The request was initiated',
    ]);
  });

  it('when an update fails, then the next update of the request is still applied', async () => {
    const { store } = await storeOf();
    store.onClaim = (key) => (key === 'x1' ? Promise.reject(new Error('db down')) : Promise.resolve());
    const record = createRecorder({
      store,
      log: pino({ level: 'silent' }),
      onCommitted: () => undefined,
      answer,
    });
    const first = record(message('x1', 1));
    const second = record(message('x2', 1));
    await expect(first).rejects.toThrow('recording the state update failed');
    await second;
    expect((await store.history(1)).map((h) => h.state_reason)).toEqual(['x2', 'The request was initiated']);
  });

  it('when a state query follows a slow final update of its request, then it is answered after that update, with its state', async () => {
    const { store } = await storeOf({ final: 50 });
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
    await Promise.all([record(message('final', 2, 'complete')), record(query('q1', 2))]);
    expect(answers).toEqual([{ request_id: 2, state: 'complete', answer_to: 'q1' }]);
  });

  it('when a state query names an unknown request, then it is answered "unknown"', async () => {
    const { store } = await storeOf();
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
    await record(query('q', 99));
    expect(answers).toEqual([{ request_id: 99, state: 'unknown', answer_to: 'q' }]);
  });

  it('when PostgreSQL is away, then the failure is retryable; when the update itself is bad data, then it is not', async () => {
    const failing = async (err: Error) => {
      const { store } = await storeOf();
      store.onClaim = () => Promise.reject(err);
      return createRecorder({ store, log: silent, onCommitted: () => undefined, answer })(message('k', 1));
    };
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

import type { StateUpdate } from '../../../shared/contracts';
import { ConflictError, DependencyError, NotFoundError, ValidationError } from '../../../shared/errors';
import { Names } from '../../../shared/messaging/names';
import { NewRequest, submitRequests } from '../../../services/gateway/requests/submit';
import { patchRequest, recordUpdate } from '../../../services/gateway/requests/updates';
import { MemoryRequestStore } from '../../support/memory-request-store';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const item = (extra: Partial<NewRequest> = {}): NewRequest => ({
  type: 'add',
  user: 'alice',
  params: { from_index: 'r/i:1', organization: 'org' },
  ...extra,
});
let keys = 0;
const update = (id: number, u: Partial<StateUpdate>): StateUpdate => ({
  key: `k${(keys += 1)}`,
  request_id: id,
  at: '',
  ...u,
});
const destinations = (store: MemoryRequestStore): string[] => store.outbox.map((m) => m.destination);

describe('submitting requests', () => {
  it('when a batch is submitted, then each request is in progress with its first state, and its messages are written in order', async () => {
    const store = new MemoryRequestStore();
    const rows = await submitRequests(store, undefined, [item(), item()], { team: 'a' }, T0);
    expect(rows.map((r) => [r.id, r.batch_id, r.state, r.state_reason])).toEqual([
      [1, 1, 'in_progress', 'The request was initiated'],
      [2, 1, 'in_progress', 'The request was initiated'],
    ]);
    expect(await store.history(2)).toEqual([
      { state: 'in_progress', state_reason: 'The request was initiated', updated: T0 },
    ]);
    expect(destinations(store)).toEqual([
      Names.requests,
      Names.buildStateEvents,
      Names.requests,
      Names.buildStateEvents,
      Names.batchStateEvents,
    ]);
    expect(store.outbox[4]?.body).toMatchObject({
      batch: 1,
      annotations: { team: 'a' },
      state: 'in_progress',
      requests: [
        { id: 1, organization: 'org', request_type: 'add' },
        { id: 2, organization: 'org', request_type: 'add' },
      ],
    });
    expect(store.outbox[0]?.body).toMatchObject({ id: 1, batch: 1, submitted_at: T0.toISOString() });
  });

  it('when a request carries secrets, then they are sealed for its id; without a key, the request is refused', async () => {
    const store = new MemoryRequestStore();
    const sealer = (secrets: object, id: number): string => `sealed ${id} ${JSON.stringify(secrets)}`;
    await submitRequests(store, sealer, [item({ secrets: { token: 't' } })]);
    expect(store.outbox[0]?.body).toMatchObject({ sealed_secrets: 'sealed 1 {"token":"t"}' });
    const refused = submitRequests(store, undefined, [item({ secrets: { token: 't' } })]);
    await expect(refused).rejects.toBeInstanceOf(DependencyError);
    await expect(refused).rejects.toMatchObject({ retryable: false });
    expect(await store.get(2)).toBeUndefined();
  });
});

describe('recording builder updates', () => {
  const setUp = async (count = 1) => {
    const store = new MemoryRequestStore();
    const rows = await submitRequests(
      store,
      undefined,
      Array.from({ length: count }, () => item()),
      null,
      T0,
    );
    store.outbox.length = 0;
    return { store, ids: rows.map((r) => r.id) };
  };

  it('when an update arrives twice, then it is applied once', async () => {
    const { store, ids } = await setUp();
    const u = update(ids[0]!, { state: 'in_progress', state_reason: 'Building' });
    expect(await recordUpdate(store, u, at(1))).toEqual({ applied: true, changed: true });
    expect(await recordUpdate(store, u, at(2))).toEqual({ applied: false, changed: false });
    expect(destinations(store)).toEqual([Names.buildStateEvents]);
  });

  it('when an update names an unknown request, then it is applied and changes nothing', async () => {
    const { store } = await setUp();
    expect(await recordUpdate(store, update(99, { state: 'complete', state_reason: 'x' }))).toEqual({
      applied: true,
      changed: false,
    });
  });

  it('when a request becomes final, then the duration since its submission is answered, and the batch is published once every request is final', async () => {
    const { store, ids } = await setUp(2);
    const first = await recordUpdate(
      store,
      update(ids[0]!, { state: 'complete', state_reason: 'done' }),
      at(4200),
    );
    expect(first).toEqual({ applied: true, changed: true, durationMs: 4200 });
    expect(destinations(store)).toEqual([Names.buildStateEvents]);
    await recordUpdate(store, update(ids[1]!, { state: 'failed', state_reason: 'boom' }), at(5000));
    expect(destinations(store)).toEqual([
      Names.buildStateEvents,
      Names.buildStateEvents,
      Names.batchStateEvents,
    ]);
    expect(store.outbox[2]?.body).toMatchObject({ batch: 1, state: 'failed' });
  });

  it('when a final request gets a late update, then only its log lines are kept and nothing is published', async () => {
    const { store, ids } = await setUp();
    const id = ids[0]!;
    await recordUpdate(
      store,
      update(id, { state: 'complete', state_reason: 'done', fields: { index_image: 'a' } }),
    );
    const published = store.outbox.length;
    const late = update(id, {
      state: 'failed',
      state_reason: 'late',
      fields: { index_image: 'b' },
      logs: ['late line'],
      artifacts: { related_bundles: ['x'] },
    });
    expect(await recordUpdate(store, late)).toEqual({ applied: true, changed: false });
    expect(await store.get(id)).toMatchObject({ state: 'complete', results: { index_image: 'a' } });
    expect(await store.logs(id)).toEqual(['late line']);
    expect(await store.artifact(id, 'related_bundles')).toBeUndefined();
    expect(store.outbox).toHaveLength(published);
  });

  it('when an update carries text PostgreSQL cannot store, then a cleaned copy is recorded', async () => {
    const { store, ids } = await setUp();
    await recordUpdate(
      store,
      update(ids[0]!, { state: 'failed', state_reason: 'a\u0000b \ud800', logs: ['x\u0000'] }),
    );
    expect(await store.get(ids[0]!)).toMatchObject({ state_reason: 'ab \ufffd' });
    expect(await store.logs(ids[0]!)).toEqual(['x']);
  });
});

describe('PATCH', () => {
  const setUp = async () => {
    const store = new MemoryRequestStore();
    const [r] = await submitRequests(store, undefined, [item()], null, T0);
    store.outbox.length = 0;
    return { store, id: r!.id };
  };

  it('when a state is patched, then it is recorded and published with the batch; results alone are not published', async () => {
    const { store, id } = await setUp();
    const fields = await patchRequest(store, id, { arches: ['amd64'], index_image: 'r/x:1' }, at(1));
    expect(fields).toMatchObject({
      stateUpdated: false,
      record: { updated: T0, results: { arches: ['amd64'] } },
    });
    expect(store.outbox).toHaveLength(0);
    const done = await patchRequest(store, id, { state: 'complete', state_reason: 'done' }, at(2));
    expect(done).toMatchObject({ stateUpdated: true, record: { state: 'complete', updated: at(2) } });
    expect(destinations(store)).toEqual([Names.buildStateEvents, Names.batchStateEvents]);
    expect(store.outbox[0]?.body).toMatchObject({
      state: 'complete',
      arches: ['amd64'],
      index_image: 'r/x:1',
    });
  });

  it('when a final request is patched to another state, then it is refused and nothing of the PATCH is kept', async () => {
    const { store, id } = await setUp();
    await patchRequest(store, id, { state: 'complete', state_reason: 'done' });
    const published = store.outbox.length;
    const refused = patchRequest(store, id, { state: 'failed', state_reason: 'no', index_image: 'r/x:2' });
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toThrow('A complete request cannot change states');
    expect(await store.get(id)).toMatchObject({ state: 'complete', results: {} });
    expect(store.outbox).toHaveLength(published);
  });

  it('when the request is unknown or the body is not allowed, then IIB’s 404 and 400', async () => {
    const { store, id } = await setUp();
    await expect(patchRequest(store, 99, { state: 'complete', state_reason: 'x' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const bad = patchRequest(store, id, { from_index: 'x' });
    await expect(bad).rejects.toBeInstanceOf(ValidationError);
    await expect(bad).rejects.toThrow('The following keys are not allowed: from_index');
  });
});

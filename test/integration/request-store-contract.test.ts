import type { StateUpdate } from '../../shared/contracts';
import { KnexRequestStore } from '../../services/gateway/db/knex-store';
import type { RequestStore } from '../../services/gateway/requests/store';
import { submitRequests } from '../../services/gateway/requests/submit';
import { patchRequest, recordUpdate } from '../../services/gateway/requests/updates';
import { createTestDatabase, TestDatabase } from '../support/db';
import { MemoryRequestStore } from '../support/memory-request-store';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

/**
 * One scenario over a store, and what a client could observe of it. The
 * in-memory store stands in for PostgreSQL in the unit tests: it must
 * answer the same.
 */
async function scenario(store: RequestStore): Promise<unknown[]> {
  const seen: unknown[] = [];
  const rows = await submitRequests(
    store,
    undefined,
    [
      { type: 'add', user: 'alice', params: { from_index: 'r/i:1', organization: 'o' }, fromIndex: 'r/i:1' },
      { type: 'rm', user: 'alice', params: { from_index: 'r/i:1', operators: ['p'] }, fromIndex: 'r/i:1' },
    ],
    { team: 'a' },
    T0,
  );
  const [a, b] = rows.map((r) => r.id) as [number, number];
  const update = (key: string, id: number, u: Partial<StateUpdate>): StateUpdate => ({
    key,
    request_id: id,
    at: '',
    ...u,
  });
  seen.push(
    await recordUpdate(store, update('u1', a, { state: 'in_progress', state_reason: 'Building' }), at(1)),
  );
  seen.push(
    await recordUpdate(store, update('u1', a, { state: 'in_progress', state_reason: 'Building' }), at(2)),
  );
  seen.push(
    await recordUpdate(
      store,
      update('u2', a, {
        logs: ['one', 'two'],
        artifacts: { related_bundles: ['x:1'] },
        fields: { arches: ['amd64'] },
      }),
      at(3),
    ),
  );
  seen.push(
    await recordUpdate(
      store,
      update('u3', a, { state: 'complete', state_reason: 'done', fields: { index_image: 'r/x:1' } }),
      at(4),
    ),
  );
  seen.push(
    await recordUpdate(
      store,
      update('u4', a, { state: 'failed', state_reason: 'late', logs: ['three'] }),
      at(5),
    ),
  );
  seen.push(
    await patchRequest(store, b, { arches: ['s390x'], state: 'failed', state_reason: 'boom' }, at(6)),
  );
  seen.push(
    await patchRequest(store, b, { state: 'in_progress', state_reason: 'again' }, at(7)).catch(
      (e: Error) => e.message,
    ),
  );
  for (const id of [a, b]) {
    seen.push(await store.get(id), await store.history(id), await store.logs(id));
  }
  seen.push(await store.logsAfter(a, (await store.logsAfter(a, 0))[0]!.id));
  seen.push(await store.artifact(a, 'related_bundles'), await store.artifact(a, 'nested_bundles'));
  seen.push([...(await store.histories([a, b])).values()]);
  seen.push([...(await store.annotationsOf([rows[0]!.batch_id])).values()]);
  seen.push(await store.list({ page: 1, perPage: 5, verbose: false, filters: [['state', 'failed']] }));
  return seen;
}

/** Ids of the PostgreSQL store depend on its sequences; the test compares them relative to the first. */
function normalized(seen: unknown[]): unknown {
  return JSON.parse(
    JSON.stringify(seen, (key, value: unknown) =>
      (key === 'id' || key === 'batch_id') && typeof value === 'number' ? 'n' : value,
    ),
  ) as unknown;
}

describe('the in-memory request store answers as the PostgreSQL one', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase('store_contract');
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('when the same requests are submitted, updated and patched, then both stores show the same', async () => {
    const knexSeen = await scenario(new KnexRequestStore(tdb.db));
    const memorySeen = await scenario(new MemoryRequestStore());
    // Columns PostgreSQL keeps beyond the record are not part of the contract.
    const extra = ['from_index', 'index_image', 'attempts', 'created_at'];
    const strip = (v: unknown): unknown =>
      JSON.parse(
        JSON.stringify(v, (key, value: unknown) => (extra.includes(key) ? undefined : value)),
      ) as unknown;
    expect(strip(normalized(memorySeen))).toEqual(strip(normalized(knexSeen)));
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- JSON answers are checked by value */
import { recordUpdate } from '../../services/gateway/requests/updates';
import { call, Gateway, startGateway } from './gateway-harness';

const IDX = 'quay.io/ns/index:v4.18';
const BIN = 'quay.io/ns/binary:v4.18';

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway('listing', { IIB_MAX_PER_PAGE: '5' });
});
afterAll(async () => {
  await gw.stop();
});

const get = (qs: string) => call('GET', `${gw.base}/builds${qs}`);

describe('GET /builds', () => {
  let ids: number[] = [];
  beforeAll(async () => {
    const mk = (body: unknown, path = '/builds/create-empty-index') =>
      call('POST', `${gw.base}${path}`, body);
    ids = [];
    for (let i = 0; i < 7; i += 1) {
      ids.push((await mk({ from_index: i < 4 ? IDX : 'quay.io/other/index:v1', binary_image: BIN })).body.id);
    }
    ids.push((await mk({ from_bundle_image: 'q.io/b:1' }, '/builds/regenerate-bundle')).body.id);
    await recordUpdate(gw.store, {
      key: 'l1',
      request_id: ids[0]!,
      state: 'failed',
      state_reason: 'x',
      fields: { index_image: 'reg/iib-build:1' },
      at: '',
    });
    await gw.tdb.db('requests').where({ id: ids[1]! }).update({ user_name: 'bob' });
  });

  it('when no filter is given, then newest first, 20 per page capped at the configured maximum, absolute links', async () => {
    const r = await get('?per_page=50');
    expect(r.status).toBe(200);
    expect(r.body.items.map((i: any) => i.id)).toEqual([...ids].reverse().slice(0, 5));
    expect('state_history' in r.body.items[0]).toBe(false);
    expect(r.body.meta).toEqual({
      first: `${gw.base}/builds?page=1&per_page=5`,
      last: `${gw.base}/builds?page=2&per_page=5`,
      next: `${gw.base}/builds?page=2&per_page=5`,
      page: 1,
      pages: 2,
      per_page: 5,
      previous: null,
      total: 8,
    });
    const p2 = await get('?page=2&per_page=5&verbose=true');
    expect(p2.body.items).toHaveLength(3);
    expect(p2.body.items[0].state_history).toHaveLength(1);
    expect(p2.body.meta.previous).toBe(`${gw.base}/builds?page=1&per_page=5`);
    expect(p2.body.meta.next).toBeNull();
  });

  it('when filters are given, then they apply and the links keep them (but not verbose)', async () => {
    const r = await get(
      `?state=in_progress&request_type=create-empty-index&from_index=${encodeURIComponent(IDX)}&verbose=1&per_page=2`,
    );
    expect(r.body.items.map((i: any) => i.id)).toEqual([ids[3], ids[2]]);
    expect(r.body.meta.total).toBe(3);
    expect(r.body.meta.next).toBe(
      `${gw.base}/builds?page=2&per_page=2&state=in_progress&request_type=create-empty-index&from_index=${encodeURIComponent(IDX)}`,
    );
    expect((await get('?state=failed')).body.items.map((i: any) => i.id)).toEqual([ids[0]]);
    expect((await get('?user=bob')).body.items.map((i: any) => i.id)).toEqual([ids[1]]);
    expect((await get(`?batch=${r.body.items[0].batch}`)).body.items).toHaveLength(1);
    expect((await get('?from_index_startswith=quay.io/other')).body.meta.total).toBe(3);
    expect((await get('?index_image=reg/iib-build:1')).body.items.map((i: any) => i.id)).toEqual([ids[0]]);
    expect((await get('?request_type=regenerate-bundle')).body.items).toHaveLength(1);
  });

  it('when nothing matches, then an empty page whose last link is page 1', async () => {
    const r = await get('?user=nobody');
    expect(r.body).toEqual({
      items: [],
      meta: {
        first: `${gw.base}/builds?page=1&per_page=5&user=nobody`,
        last: `${gw.base}/builds?page=1&per_page=5&user=nobody`,
        next: null,
        page: 1,
        pages: 0,
        per_page: 5,
        previous: null,
        total: 0,
      },
    });
  });

  it("when query parameters are bad, then IIB's errors", async () => {
    const cases: [string, number, string][] = [
      [
        '?state=done',
        400,
        'done is not a valid build request state. Valid states are: complete, failed, in_progress',
      ],
      ['?batch=0', 400, 'The batch must be a positive integer'],
      ['?batch=abc', 400, 'The batch must be a positive integer'],
      [
        '?request_type=x',
        400,
        'x is not a valid build request type. Valid request_types are: generic, add, rm, regenerate-bundle, merge-index-image, create-empty-index, recursive-related-bundles, fbc-operations, add-deprecations',
      ],
      ['?from_index=no:such', 400, 'from_index no:such is not a valid index image'],
      ['?from_index_startswith=zzz', 400, "Can't find any from_index starting with zzz"],
      ['?index_image=no:such', 400, 'no:such is not a valid index image'],
      ['?page=0', 404, 'The requested resource was not found'],
      ['?page=x', 404, 'The requested resource was not found'],
      ['?per_page=-1', 404, 'The requested resource was not found'],
      ['?page=99', 404, 'The requested resource was not found'],
      ['?from_index_startswith=%25', 200, ''],
    ];
    for (const [qs, status, error] of cases) {
      const r = await get(qs);
      expect([qs, r.status]).toEqual([qs, status === 200 && r.status === 400 ? 400 : status]);
      if (error) expect(r.body.error).toBe(error);
    }
  });
});

describe('listing at scale', () => {
  it('when 100,000 requests exist, then a filtered page uses indexes, never a sequential scan of requests', async () => {
    const db = gw.tdb.db;
    await db.raw(`
      INSERT INTO batches (id) SELECT g FROM generate_series(100000, 200000) g;
      INSERT INTO requests (type, user_name, batch_id, state, state_reason, updated, params, results, from_index, index_image)
      SELECT (ARRAY['add','rm','create-empty-index','fbc-operations'])[1 + g % 4], 'user' || (g % 50), 100000 + g,
             (ARRAY['complete','failed','in_progress'])[1 + g % 3], 'r', now(), '{}', '{}',
             'quay.io/ns' || (g % 100) || '/index:v' || (g % 7), 'reg/iib-build:' || g
      FROM generate_series(1, 100000) g;
      ANALYZE requests;`);
    const filters = [
      'state=failed',
      'request_type=rm',
      'user=user7',
      'batch=100042',
      'from_index=quay.io/ns3/index:v3',
      'from_index_startswith=quay.io/ns4',
      'index_image=reg/iib-build:77',
      'state=complete&request_type=add&user=user2',
    ];
    for (const f of filters) {
      const started = Date.now();
      const r = await get(`?${f}`);
      expect([f, r.status]).toEqual([f, 200]);
      expect(Date.now() - started).toBeLessThan(2000);
      const { parseListQuery } = await import('../../services/gateway/http/listing');
      const { listingSql } = await import('../../services/gateway/db/knex-listing');
      const sql = await listingSql(db, parseListQuery(Object.fromEntries(new URLSearchParams(f)), 5));
      const plan = await db.raw(`EXPLAIN ${sql.sql.replace(/\$\d+/g, '?')}`, sql.bindings as any[]);
      const text = plan.rows.map((row: any) => row['QUERY PLAN']).join('\n');
      expect([f, text]).not.toEqual([f, expect.stringMatching(/Seq Scan on requests/)]);
    }
  });
});

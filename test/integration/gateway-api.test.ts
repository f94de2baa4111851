/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- JSON answers are checked by value */
import { secretsAssociatedData } from '../../services/gateway/requests/submit';
import { recordUpdate } from '../../services/gateway/requests/updates';
import { call, Gateway, startGateway } from './gateway-harness';

const IDX = 'quay.io/ns/index:v4.18';
const BIN = 'quay.io/ns/binary:v4.18';
const B1 = 'quay.io/ns/bundle:v1';

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway('api');
});
afterAll(async () => {
  await gw.stop();
});

const post = (path: string, body: unknown) => call('POST', `${gw.base}${path}`, body);

describe('POST endpoints', () => {
  it('when an add is submitted, then 201 with IIB verbose JSON and the outbox holds its messages', async () => {
    const r = await post('/builds/add', {
      bundles: [B1, B1],
      from_index: IDX,
      binary_image: BIN,
      organization: 'org',
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      arches: [],
      batch_annotations: null,
      binary_image: BIN,
      binary_image_resolved: null,
      bundle_mapping: {},
      bundles: [B1],
      check_related_images: null,
      deprecation_list: [],
      distribution_scope: null,
      from_index: IDX,
      from_index_resolved: null,
      graph_update_mode: null,
      index_image: null,
      index_image_resolved: null,
      internal_index_image_copy: null,
      internal_index_image_copy_resolved: null,
      omps_operator_version: {},
      organization: 'org',
      removed_operators: [],
      build_tags: [],
      request_type: 'add',
      state: 'in_progress',
      state_reason: 'The request was initiated',
      user: null,
    });
    expect(r.body.updated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(r.body.state_history).toEqual([
      { state: 'in_progress', state_reason: 'The request was initiated', updated: r.body.updated },
    ]);
    expect(r.body.logs).toEqual({
      expiration: expect.any(String),
      url: `${gw.base}/builds/${r.body.id}/logs`,
    });
    const outbox = await gw.tdb.db('outbox').select('destination', 'body');
    const event = outbox.find((o) => o.destination === 'iib.requests' && o.body.id === r.body.id);
    expect(event.body).toMatchObject({ request_type: 'add', user: null, batch: r.body.batch });
    expect(outbox.some((o) => o.destination === 'iib.events.build-state' && o.body.id === r.body.id)).toBe(
      true,
    );
  });

  it('when each single endpoint gets a valid body, then 201 with its type-specific keys', async () => {
    const bodies: [string, unknown, string[]][] = [
      ['/builds/rm', { operators: ['op'], from_index: IDX, binary_image: BIN }, ['removed_operators']],
      [
        '/builds/regenerate-bundle',
        { from_bundle_image: B1 },
        ['bundle_image', 'from_bundle_image_resolved', 'bundle_replacements', 'related_bundles'],
      ],
      [
        '/builds/merge-index-image',
        { source_from_index: IDX, target_index: IDX, binary_image: BIN },
        ['source_from_index_resolved', 'target_index_resolved', 'ignore_bundle_ocp_version'],
      ],
      ['/builds/create-empty-index', { from_index: IDX, binary_image: BIN, labels: { a: 'b' } }, ['labels']],
      [
        '/builds/recursive-related-bundles',
        { parent_bundle_image: B1 },
        ['parent_bundle_image_resolved', 'nested_bundles'],
      ],
      [
        '/builds/fbc-operations',
        { from_index: IDX, binary_image: BIN, fbc_fragments: [B1] },
        ['fbc_fragments', 'fbc_fragments_resolved', 'fbc_fragment'],
      ],
      [
        '/builds/add-deprecations',
        { from_index: IDX, binary_image: BIN, operator_package: 'p', deprecation_schema: '{"a":1}' },
        ['operator_package', 'deprecation_schema_url'],
      ],
    ];
    for (const [path, body, keys] of bodies) {
      const r = await post(path, body);
      expect([path, r.status]).toEqual([path, 201]);
      for (const k of keys) expect([path, k in r.body]).toEqual([path, true]);
    }
  });

  it('when create-empty-index answers, then the keys IIB drops are absent', async () => {
    const r = await post('/builds/create-empty-index', { from_index: IDX, binary_image: BIN });
    for (const k of [
      'bundles',
      'bundle_mapping',
      'organization',
      'deprecation_list',
      'removed_operators',
      'build_tags',
      'internal_index_image_copy',
    ]) {
      expect(k in r.body).toBe(false);
    }
    expect(r.body.labels).toBeNull();
  });

  it('when the legacy fbc_fragment is used, then the answer uses the legacy keys', async () => {
    const r = await post('/builds/fbc-operations', { from_index: IDX, binary_image: BIN, fbc_fragment: B1 });
    expect(r.body).toMatchObject({
      fbc_fragment: B1,
      fbc_fragment_resolved: null,
      fbc_fragments: [],
      fbc_fragments_resolved: [],
    });
  });

  it('when a batch endpoint is used, then one batch, annotations, an array, one batch message', async () => {
    const r = await post('/builds/add-rm-batch', {
      build_requests: [
        { bundles: [B1], from_index: IDX, binary_image: BIN },
        { operators: ['op'], from_index: IDX, binary_image: BIN },
      ],
      annotations: { ticket: 'X-1' },
    });
    expect(r.status).toBe(201);
    expect(r.body.map((x: any) => x.request_type)).toEqual(['add', 'rm']);
    expect(new Set(r.body.map((x: any) => x.batch)).size).toBe(1);
    expect(r.body[0].batch_annotations).toEqual({ ticket: 'X-1' });
    const batchMsgs = await gw.tdb
      .db('outbox')
      .where({ destination: 'iib.events.batch-state' })
      .select('body');
    const mine = batchMsgs.filter((m) => m.body.batch === r.body[0].batch);
    expect(mine).toHaveLength(1);
    expect(mine[0].body).toMatchObject({
      annotations: { ticket: 'X-1' },
      state: 'in_progress',
      requests: [{ request_type: 'add' }, { request_type: 'rm' }],
    });
    const regen = await post('/builds/regenerate-bundle-batch', {
      build_requests: [{ from_bundle_image: B1 }, { from_bundle_image: B1 }],
    });
    expect(regen.status).toBe(201);
    expect(regen.body).toHaveLength(2);
  });

  it('when a batch item is invalid, then 400 naming it and nothing is stored', async () => {
    const before = await gw.tdb.db('requests').count({ n: '*' });
    const r = await post('/builds/regenerate-bundle-batch', {
      build_requests: [{ from_bundle_image: B1 }, { from_bundle_image: 'x' }],
    });
    expect(r).toMatchObject({
      status: 400,
      body: {
        error:
          'Image x should have a tag or a digest specified. This occurred on the build request in index 1.',
      },
    });
    expect(await gw.tdb.db('requests').count({ n: '*' })).toEqual(before);
  });
});

describe('secrets', () => {
  it('when tokens and registry auths are submitted, then they are sealed in the event and nowhere else', async () => {
    const token = 'user:TOPSECRET-token';
    const auths = { auths: { 'r.io': { auth: 'VE9QU0VDUkVULWF1dGg=' } } };
    const a = await post('/builds/add', {
      bundles: [B1],
      from_index: IDX,
      binary_image: BIN,
      overwrite_from_index: true,
      overwrite_from_index_token: token,
    });
    const g = await post('/builds/regenerate-bundle', { from_bundle_image: B1, registry_auths: auths });
    const m = await post('/builds/merge-index-image', {
      source_from_index: IDX,
      binary_image: BIN,
      overwrite_target_index: true,
      overwrite_target_index_token: token,
    });
    for (const r of [a, g, m]) {
      expect(r.status).toBe(201);
      expect(r.text).not.toContain('TOPSECRET');
      expect(r.text).not.toContain('VE9QU0VDUkVU');
    }
    const dump = JSON.stringify([
      await gw.tdb.db('requests').select('*'),
      await gw.tdb.db('outbox').select('*'),
      await gw.tdb.db('request_states').select('*'),
    ]);
    expect(dump).not.toContain('TOPSECRET');
    expect(dump).not.toContain('VE9QU0VDUkVU');
    expect(gw.logs.join('')).not.toContain('TOPSECRET');
    const event = await gw.tdb
      .db('outbox')
      .where({ destination: 'iib.requests' })
      .whereRaw("(body->>'id')::int = ?", [g.body.id])
      .first();
    expect(gw.box.open(event.body.sealed_secrets, secretsAssociatedData(g.body.id))).toEqual({
      registry_auths: auths,
    });
    // Bound to its request: the same ciphertext does not open for another id.
    expect(() => gw.box.open(event.body.sealed_secrets, secretsAssociatedData(a.body.id))).toThrow();
  });
});

describe('GET endpoints', () => {
  it('when a request is fetched, then its verbose JSON; unknown or malformed ids are 404', async () => {
    const c = await post('/builds/create-empty-index', { from_index: IDX, binary_image: BIN });
    const r = await call('GET', `${gw.base}/builds/${c.body.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(c.body);
    for (const id of ['999999', 'abc', '-1', '1.5', '99999999999']) {
      expect(await call('GET', `${gw.base}/builds/${id}`)).toMatchObject({
        status: 404,
        body: { error: 'The requested resource was not found' },
      });
    }
  });

  it("when logs and artifacts are asked for, then IIB's checks apply", async () => {
    const c = await post('/builds/regenerate-bundle', { from_bundle_image: B1 });
    const id = c.body.id as number;
    expect(await call('GET', `${gw.base}/builds/${id}/logs`)).toMatchObject({
      status: 400,
      body: {
        error: `The request ${id} is not complete yet. logs will be available once the request is complete.`,
      },
    });
    expect(await call('GET', `${gw.base}/builds/${id}/nested-bundles`)).toMatchObject({
      status: 400,
      body: {
        error: `The request ${id} is of type regenerate-bundle. This endpoint is only valid for requests of type recursive-related-bundles.`,
      },
    });
    expect(await call('GET', `${gw.base}/builds/${id}/deprecation-schema`)).toMatchObject({ status: 400 });
    await recordUpdate(gw.store, {
      key: `t-${id}`,
      request_id: id,
      state: 'complete',
      state_reason: 'done',
      logs: ['line 1', 'line 2'],
      artifacts: { related_bundles: ['a:1'] },
      at: new Date().toISOString(),
    });
    const logs = await call('GET', `${gw.base}/builds/${id}/logs`);
    expect(logs).toMatchObject({ status: 200, text: 'line 1\nline 2\n' });
    expect(logs.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await call('GET', `${gw.base}/builds/${id}/related_bundles`)).toMatchObject({
      status: 200,
      body: ['a:1'],
    });
    await gw.tdb
      .db('requests')
      .where({ id })
      .update({ updated: new Date(Date.now() - 4 * 86_400_000) });
    expect(await call('GET', `${gw.base}/builds/${id}/logs`)).toMatchObject({
      status: 410,
      body: { error: `The logs for the build request ${id} no longer exist` },
    });
    const d = await post('/builds/add-deprecations', {
      from_index: IDX,
      binary_image: BIN,
      operator_package: 'p',
      deprecation_schema: '{"schema":"olm.deprecations"}',
    });
    expect(await call('GET', `${gw.base}/builds/${d.body.id}/deprecation-schema`)).toMatchObject({
      status: 200,
      body: { schema: 'olm.deprecations' },
    });
  });

  it('when a log is followed while the request runs, then every line arrives as reported and the stream ends at the final state', async () => {
    const c = await post('/builds/create-empty-index', { from_index: IDX, binary_image: BIN });
    const id = c.body.id as number;
    const update = (n: number, extra: Record<string, unknown> = {}) =>
      recordUpdate(gw.store, {
        key: `follow-${id}-${n}`,
        request_id: id,
        logs: [`line ${n}`],
        at: new Date().toISOString(),
        ...extra,
      });
    await update(1);
    const res = await fetch(`${gw.base}/builds/${id}/logs?follow=true`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string): Promise<void> => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before "${needle}": ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    // The first line is there at once, the request still in progress.
    await readUntil('line 1\n');
    await update(2);
    await readUntil('line 2\n');
    await update(3, { state: 'complete', state_reason: 'done' });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toBe('line 1\nline 2\nline 3\n');
    // Without follow, IIB's answer is unchanged once final.
    expect(await call('GET', `${gw.base}/builds/${id}/logs`)).toMatchObject({ status: 200, text });
  });

  it('when the healthcheck and the docs are asked for, then they answer', async () => {
    expect(await call('GET', `${gw.base}/healthcheck`)).toMatchObject({
      status: 200,
      body: { status: 'Health check OK' },
    });
    const doc = await call('GET', `${gw.base}/openapi.json`);
    expect(doc.body.openapi).toMatch(/^3\./);
    const docs = await call('GET', `${gw.base}/docs`);
    expect(docs.text).toContain('spec-url="openapi.json"');
    // The root leads to the builds page, which links to the docs.
    const page = await call('GET', gw.base.replace('/api/v1', '/'));
    expect(page.text).toContain('../api/v1/docs');
  });
});

describe('bad input', () => {
  it('when bodies are malformed, huge, or of the wrong type, then 4xx with an error and the server lives on', async () => {
    const cases: [unknown, number][] = [
      ['{not json', 400],
      ['[1,2]', 400],
      ['"text"', 400],
      ['null', 400],
      [JSON.stringify({ from_index: 'x'.repeat(2_000_000) }), 413],
      [{ from_index: { $ne: 1 } }, 400],
      [{ from_index: IDX, binary_image: ['a'] }, 400],
    ];
    for (const [body, status] of cases) {
      const r = await post('/builds/create-empty-index', body);
      const label = JSON.stringify(body).slice(0, 30);
      expect([label, r.status]).toEqual([label, status]);
      expect(typeof r.body.error).toBe('string');
    }
    const noType = await fetch(`${gw.base}/builds/add`, { method: 'POST', body: 'x' });
    expect(noType.status).toBe(400);
    expect(await call('GET', `${gw.base}/nope`)).toMatchObject({ status: 404 });
    expect(await call('GET', `${gw.base}/healthcheck`)).toMatchObject({ status: 200 });
  });
});

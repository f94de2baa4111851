/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked by value */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { brotliCompressSync, constants as zlibConstants, deflateSync, gzipSync } from 'node:zlib';
import { Gateway, startGateway } from './gateway-harness';

const IDX = 'quay.io/ns/index:v4.18';
const BIN = 'quay.io/ns/binary:v4.18';
const B1 = 'quay.io/ns/bundle:v1';

let gw: Gateway;
let port: number;
beforeAll(async () => {
  gw = await startGateway('hostile');
  port = Number(new URL(gw.base).port);
});
afterAll(async () => {
  await gw.stop();
});

interface RawAnswer {
  status: number;
  body: any;
}

/**
 * One request with the exact bytes and path given: fetch would normalise
 * the URL and encode strings itself, which would hide what is tested here.
 */
function raw(
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const all: Record<string, string | number> = {
      ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
      ...headers,
    };
    // An empty value removes a default header.
    for (const [k, v] of Object.entries(all)) if (v === '') delete all[k];
    const req = http.request(
      // No keep-alive: a request that lies about its length must not eat the next one.
      { host: '127.0.0.1', port, method, path: `/api/v1${path}`, headers: all, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function rowCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['requests', 'batches', 'outbox', 'request_states']) {
    const row: unknown = await gw.tdb.db(table).count({ n: '*' }).first();
    out[table] = Number((row as { n: string }).n);
  }
  return out;
}

const json = (v: unknown): string => JSON.stringify(v);
/** Bytes around a JSON text: `pre` + bytes + `post`, for bodies no JSON.stringify can make. */
const bytes = (pre: string, mid: number[], post: string): Buffer =>
  Buffer.concat([Buffer.from(pre), Buffer.from(mid), Buffer.from(post)]);
const many = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const CEI = '/builds/create-empty-index';

type Case = [
  name: string,
  method: string,
  path: string,
  body: Buffer | string | undefined,
  headers: Record<string, string>,
  status: number,
  error: string | RegExp,
];

const PATH_ERROR = 'The request path is not valid percent-encoded UTF-8';
const QUERY_ERROR = 'The query string is not valid percent-encoded UTF-8';
const NOT_FOUND = 'The requested resource was not found';
const NOT_UTF8 = 'The request body is not valid UTF-8';
const METHOD_ERROR = 'The method is not allowed for the requested URL.';

const cases: Case[] = [
  // NUL characters, which PostgreSQL text and jsonb refuse.
  [
    'NUL in a value',
    'POST',
    CEI,
    json({ from_index: `${IDX}\u0000`, binary_image: BIN }),
    {},
    400,
    '"from_index" contains a NUL character',
  ],
  [
    'NUL in a nested value',
    'POST',
    CEI,
    json({ from_index: IDX, binary_image: BIN, labels: { version: 'a\u0000b' } }),
    {},
    400,
    '"labels.version" contains a NUL character',
  ],
  [
    'NUL in a nested key',
    'POST',
    CEI,
    json({ from_index: IDX, binary_image: BIN, labels: { 'a\u0000': 'b' } }),
    {},
    400,
    'A key of "labels" contains a NUL character',
  ],
  [
    'NUL in a top-level key',
    'POST',
    '/builds/add',
    json({ bundles: [B1], binary_image: BIN, 'x\u0000': 1 }),
    {},
    400,
    'A key of the input data contains a NUL character',
  ],
  [
    'NUL in a list item',
    'POST',
    '/builds/add',
    json({ bundles: [B1, `${B1}\u0000`], binary_image: BIN }),
    {},
    400,
    '"bundles[1]" contains a NUL character',
  ],
  [
    'NUL in batch annotations',
    'POST',
    '/builds/regenerate-bundle-batch',
    json({ build_requests: [{ from_bundle_image: B1 }], annotations: { k: ['\u0000'] } }),
    {},
    400,
    '"annotations.k[0]" contains a NUL character',
  ],
  [
    'NUL in a PATCH body',
    'PATCH',
    '/builds/1',
    json({ state: 'failed', state_reason: 'boom\u0000' }),
    {},
    400,
    '"state_reason" contains a NUL character',
  ],
  // UTF-16 that jsonb refuses.
  [
    'escaped unpaired surrogate in a label',
    'POST',
    CEI,
    '{"from_index":"quay.io/ns/index:v4.18","binary_image":"quay.io/ns/binary:v4.18","labels":{"a":"\\ud800"}}',
    {},
    400,
    '"labels.a" contains invalid Unicode (an unpaired surrogate)',
  ],
  [
    'escaped unpaired low surrogate in a key',
    'POST',
    CEI,
    '{"from_index":"quay.io/ns/index:v4.18","labels":{"\\udc00x":"a"}}',
    {},
    400,
    'A key of "labels" contains invalid Unicode (an unpaired surrogate)',
  ],
  [
    'raw unpaired surrogate in a UTF-16 body',
    'POST',
    CEI,
    Buffer.concat([
      Buffer.from('{"from_index":"', 'utf16le'),
      Buffer.from([0x00, 0xd8]),
      Buffer.from('"}', 'utf16le'),
    ]),
    { 'content-type': 'application/json; charset=utf-16le' },
    400,
    '"from_index" contains invalid Unicode (an unpaired surrogate)',
  ],
  // Bytes that are not UTF-8.
  [
    'raw UTF-8-encoded surrogate',
    'POST',
    CEI,
    bytes('{"from_index":"', [0xed, 0xa0, 0x80], '"}'),
    {},
    400,
    NOT_UTF8,
  ],
  ['invalid byte 0xFF', 'POST', CEI, bytes('{"from_index":"a', [0xff], ':1"}'), {}, 400, NOT_UTF8],
  [
    'truncated sequence',
    'POST',
    '/builds/add',
    bytes('{"bundles":["', [0xe0, 0xa4], '"]}'),
    {},
    400,
    NOT_UTF8,
  ],
  ['overlong encoding', 'POST', CEI, bytes('{"from_index":"', [0xc0, 0xaf], '"}'), {}, 400, NOT_UTF8],
  // Nesting, sizes, lengths.
  [
    '100,000 nested arrays',
    'POST',
    CEI,
    `{"from_index":"${IDX}","labels":${nested(100_000)}}`,
    {},
    400,
    'The input data must not be nested more than 32 levels deep',
  ],
  [
    'deeply nested annotations',
    'POST',
    '/builds/add-rm-batch',
    json({
      build_requests: [{ bundles: [B1], binary_image: BIN }],
      annotations: JSON.parse(`{"a":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`),
    }),
    {},
    400,
    'The input data must not be nested more than 32 levels deep',
  ],
  [
    '10,000 build_tags',
    'POST',
    '/builds/add',
    json({ bundles: [B1], binary_image: BIN, build_tags: many(10_000, (i) => `t${i}`) }),
    {},
    400,
    '"build_tags" must not hold more than 50 items',
  ],
  [
    '501 bundles',
    'POST',
    '/builds/add',
    json({ bundles: many(501, (i) => `${B1}${i}`), binary_image: BIN }),
    {},
    400,
    '"bundles" must not hold more than 500 items',
  ],
  [
    '501 operators',
    'POST',
    '/builds/rm',
    json({ operators: many(501, (i) => `op${i}`), from_index: IDX, binary_image: BIN }),
    {},
    400,
    '"operators" must not hold more than 500 items',
  ],
  [
    '101 fbc_fragments',
    'POST',
    '/builds/fbc-operations',
    json({ fbc_fragments: many(101, (i) => `${B1}${i}`), from_index: IDX, binary_image: BIN }),
    {},
    400,
    '"fbc_fragments" must not hold more than 100 items',
  ],
  [
    '501 deprecation_list items',
    'POST',
    '/builds/merge-index-image',
    json({ source_from_index: IDX, deprecation_list: many(501, (i) => `${B1}${i}`), binary_image: BIN }),
    {},
    400,
    '"deprecation_list" must not hold more than 500 items',
  ],
  [
    '101 labels',
    'POST',
    CEI,
    json({
      from_index: IDX,
      binary_image: BIN,
      labels: Object.fromEntries(many(101, (i) => `k${i}`).map((k) => [k, 'v'])),
    }),
    {},
    400,
    '"labels" must not hold more than 100 keys',
  ],
  [
    '201 batch items',
    'POST',
    '/builds/regenerate-bundle-batch',
    json({ build_requests: many(201, () => '').map(() => ({ from_bundle_image: B1 })) }),
    {},
    400,
    '"build_requests" must not hold more than 200 items',
  ],
  [
    'a limit inside a batch item',
    'POST',
    '/builds/add-rm-batch',
    json({ build_requests: [{ bundles: [B1], binary_image: BIN, build_tags: many(51, (i) => `t${i}`) }] }),
    {},
    400,
    '"build_tags" must not hold more than 50 items. This occurred on the build request in index 0.',
  ],
  [
    'a 513-character pull spec',
    'POST',
    CEI,
    json({ from_index: `quay.io/${'n'.repeat(501)}:tag`, binary_image: BIN }),
    {},
    400,
    '"from_index" must not be longer than 512 characters',
  ],
  [
    'a 600,000-character pull spec',
    'POST',
    '/builds/add',
    json({ bundles: [B1], from_index: `q.io/i:${'x'.repeat(600_000)}`, binary_image: BIN }),
    {},
    400,
    '"from_index" must not be longer than 512 characters',
  ],
  [
    'a long bundle',
    'POST',
    '/builds/add',
    json({ bundles: [`q.io/b:${'x'.repeat(600)}`], binary_image: BIN }),
    {},
    400,
    'Each item of "bundles" must not be longer than 512 characters',
  ],
  [
    'a long build tag',
    'POST',
    '/builds/add',
    json({ bundles: [B1], binary_image: BIN, build_tags: ['t'.repeat(129)] }),
    {},
    400,
    'Each item of "build_tags" must not be longer than 128 characters',
  ],
  [
    'a long label value',
    'POST',
    CEI,
    json({ from_index: IDX, binary_image: BIN, labels: { a: 'v'.repeat(5000) } }),
    {},
    400,
    'Each key and value of "labels" must not be longer than 4096 characters',
  ],
  // Wrong types and shapes.
  [
    'an array body',
    'POST',
    '/builds/add',
    '[{"bundles":["a:1"]}]',
    {},
    400,
    'The input data must be a JSON object',
  ],
  [
    'an array where a map is due',
    'POST',
    CEI,
    json({ from_index: IDX, binary_image: BIN, labels: ['a'] }),
    {},
    400,
    'The value of "labels" must be a JSON object',
  ],
  [
    'a number where a list is due',
    'POST',
    '/builds/rm',
    json({ operators: 5, from_index: IDX }),
    {},
    400,
    '"operators" should be a non-empty array of strings',
  ],
  ['malformed JSON', 'POST', CEI, '{"from_index": ', {}, 400, 'The input data must be a JSON object'],
  [
    'an empty JSON body',
    'POST',
    '/builds/add',
    '',
    {},
    400,
    '"from_index" must be specified if no bundles are specified',
  ],
  [
    'no content type',
    'POST',
    '/builds/add',
    json({ bundles: [B1] }),
    { 'content-type': '' },
    400,
    'The input data must be a JSON object',
  ],
  [
    'an unknown content type',
    'POST',
    CEI,
    json({ from_index: IDX, binary_image: BIN }),
    { 'content-type': 'application/x-www-form-urlencoded' },
    400,
    'The input data must be a JSON object',
  ],
  [
    'an unsupported charset',
    'POST',
    CEI,
    json({ from_index: IDX, binary_image: BIN }),
    { 'content-type': 'application/json; charset=latin1' },
    415,
    'unsupported charset "LATIN1"',
  ],
  // Compressed bodies: the limit holds for the inflated size.
  [
    'a gzip bomb',
    'POST',
    CEI,
    gzipSync(Buffer.from(`{"from_index":"${'x'.repeat(50_000_000)}"}`)),
    { 'content-encoding': 'gzip' },
    413,
    'The request body is too large',
  ],
  [
    'a deflate bomb',
    'POST',
    CEI,
    deflateSync(Buffer.from(`{"labels":{"a":"${' '.repeat(20_000_000)}"}}`)),
    { 'content-encoding': 'deflate' },
    413,
    'The request body is too large',
  ],
  [
    'a brotli bomb',
    'POST',
    CEI,
    brotliCompressSync(Buffer.from(`{"from_index":"${'y'.repeat(20_000_000)}"}`), {
      params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 },
    }),
    { 'content-encoding': 'br' },
    413,
    'The request body is too large',
  ],
  [
    'a corrupt gzip body',
    'POST',
    CEI,
    Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8]),
    { 'content-encoding': 'gzip' },
    400,
    /^The request body could not be read: /,
  ],
  [
    'an unknown content encoding',
    'POST',
    CEI,
    json({ from_index: IDX }),
    { 'content-encoding': 'compress' },
    415,
    /unsupported content encoding/,
  ],
  [
    'a body too large',
    'POST',
    CEI,
    json({ from_index: 'x'.repeat(2_000_000) }),
    {},
    413,
    'The request body is too large',
  ],
  // Paths.
  ['truncated percent-encoding in an id', 'GET', '/builds/%E0%A4%A', undefined, {}, 400, PATH_ERROR],
  ['a lone percent sign in an id', 'GET', '/builds/%', undefined, {}, 400, PATH_ERROR],
  ['non-hex percent-encoding', 'GET', '/builds/%ZZ/logs', undefined, {}, 400, PATH_ERROR],
  ['an overlong UTF-8 id', 'GET', '/builds/%C0%AF/related_bundles', undefined, {}, 400, PATH_ERROR],
  ['an encoded surrogate id', 'GET', '/builds/%ED%A0%80/nested-bundles', undefined, {}, 400, PATH_ERROR],
  ['bad percent-encoding in a PATCH', 'PATCH', '/builds/%FF', json({ state: 'x' }), {}, 400, PATH_ERROR],
  ['a NUL id', 'GET', '/builds/%00', undefined, {}, 404, NOT_FOUND],
  ['an id out of int range', 'GET', '/builds/99999999999999999999', undefined, {}, 404, NOT_FOUND],
  ['an id just past int4', 'GET', '/builds/2147483648', undefined, {}, 404, NOT_FOUND],
  ['a negative id', 'GET', '/builds/-1', undefined, {}, 404, NOT_FOUND],
  ['an exponent id', 'GET', '/builds/1e3', undefined, {}, 404, NOT_FOUND],
  ['an unknown route', 'GET', '/builds/1/nope', undefined, {}, 404, NOT_FOUND],
  // Known URLs with another method: IIB's (Werkzeug's) 405.
  ['DELETE on a request', 'DELETE', '/builds/1', undefined, {}, 405, METHOD_ERROR],
  ['GET on a POST endpoint', 'GET', '/builds/add', undefined, {}, 405, METHOD_ERROR],
  [
    'PUT on a batch endpoint',
    'PUT',
    '/builds/add-rm-batch',
    json({ build_requests: [] }),
    {},
    405,
    METHOD_ERROR,
  ],
  ['POST on the list', 'POST', '/builds', json({ from_index: IDX }), {}, 405, METHOD_ERROR],
  ['PATCH on logs', 'PATCH', '/builds/1/logs', json({ state: 'failed' }), {}, 405, METHOD_ERROR],
  ['POST on the health check', 'POST', '/healthcheck', undefined, {}, 405, METHOD_ERROR],
  // Query strings of the list endpoint.
  ['NUL in user', 'GET', '/builds?user=a%00', undefined, {}, 400, '"user" contains a NUL character'],
  [
    'NUL in from_index',
    'GET',
    '/builds?from_index=%00',
    undefined,
    {},
    400,
    '"from_index" contains a NUL character',
  ],
  [
    'NUL in from_index_startswith',
    'GET',
    '/builds?from_index_startswith=quay%00',
    undefined,
    {},
    400,
    '"from_index_startswith" contains a NUL character',
  ],
  [
    'NUL in index_image',
    'GET',
    '/builds?index_image=%00x',
    undefined,
    {},
    400,
    '"index_image" contains a NUL character',
  ],
  [
    'NUL in a query key',
    'GET',
    '/builds?us%00er=a',
    undefined,
    {},
    400,
    'A key of the query string contains a NUL character',
  ],
  ['bad percent-encoding in a query value', 'GET', '/builds?user=%E0%A4%A', undefined, {}, 400, QUERY_ERROR],
  ['bad percent-encoding in a query key', 'GET', '/builds?%ZZ=1', undefined, {}, 400, QUERY_ERROR],
  ['an encoded surrogate in a query', 'GET', '/builds?user=%ED%A0%80', undefined, {}, 400, QUERY_ERROR],
  [
    'duplicate states',
    'GET',
    '/builds?state=a&state=b',
    undefined,
    {},
    400,
    'a is not a valid build request state. Valid states are: complete, failed, in_progress',
  ],
  [
    'a batch out of range',
    'GET',
    '/builds?batch=99999999999',
    undefined,
    {},
    400,
    'The batch must be a positive integer',
  ],
  ['a page out of range', 'GET', '/builds?page=99999999999999999999', undefined, {}, 404, NOT_FOUND],
  ['a negative per_page', 'GET', '/builds?per_page=-1', undefined, {}, 404, NOT_FOUND],
  [
    'a very long filter',
    'GET',
    `/builds?from_index=${'x'.repeat(8000)}`,
    undefined,
    {},
    400,
    `from_index ${'x'.repeat(8000)} is not a valid index image`,
  ],
];

describe('hostile input', () => {
  it.each(cases)(
    'when %s is sent, then a 4xx with an error and nothing is stored',
    async (_name, method, path, body, headers, status, error) => {
      const before = await rowCounts();
      const r = await raw(method, path, body, headers);
      expect(r.status).toBe(status);
      expect(r.body).toEqual({ error: expect.any(String) });
      expect(r.body.error).toMatch(typeof error === 'string' ? new RegExp(`^${escape(error)}$`) : error);
      expect(await rowCounts()).toEqual(before);
    },
  );

  it('when a method is not allowed, then the Allow header lists those that are', async () => {
    const res = await fetch(`${gw.base}/builds/1`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, PATCH, OPTIONS');
    expect((await fetch(`${gw.base}/builds/add`, { method: 'OPTIONS' })).status).toBe(200);
    expect((await fetch(`${gw.base}/healthcheck`, { method: 'HEAD' })).status).toBe(200);
  });

  it('when a URL is larger than the server accepts, then 431 and the server lives on', async () => {
    const r = await raw('GET', `/builds?user=${'x'.repeat(20_000)}`);
    expect(r.status).toBe(431);
    expect((await raw('GET', '/healthcheck')).status).toBe(200);
  });

  it('when a valid body is sent the same way, then it is stored (the counts above can change)', async () => {
    const before = await rowCounts();
    const r = await raw(
      'POST',
      CEI,
      json({ from_index: IDX, binary_image: BIN, labels: { a: 'é\u{1F600}' } }),
    );
    expect(r.status).toBe(201);
    expect(r.body.labels).toEqual({ a: 'é\u{1F600}' });
    const after = await rowCounts();
    expect(after.requests).toBe((before.requests ?? 0) + 1);
  });

  it('when a body sits at every limit, then it is accepted', async () => {
    const r = await raw(
      'POST',
      '/builds/add',
      json({
        bundles: many(500, (i) => `${B1}${i}`),
        from_index: `quay.io/${'n'.repeat(505 - 4)}:v1`.slice(0, 512),
        binary_image: BIN,
        build_tags: many(50, (i) => `${'t'.repeat(125)}${i}`.slice(-128)),
        deprecation_list: many(500, (i) => `${B1}${i}`),
      }),
    );
    expect([r.status, r.body.error]).toEqual([201, undefined]);
    expect(r.body.bundles).toHaveLength(500);
  });
});

describe('input only PostgreSQL refuses', () => {
  it('when a worker PATCH sets an index_image too large for its index, then 400, logged, nothing changed', async () => {
    const created = await raw('POST', CEI, json({ from_index: IDX, binary_image: BIN }));
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    // Random base64 does not compress, so the btree entry exceeds PostgreSQL's 2704-byte limit (54000).
    const huge = `reg.io/iib:${randomBytes(15_000).toString('base64')}`;
    const r = await raw('PATCH', `/builds/${id}`, json({ index_image: huge }));
    expect(r).toEqual({ status: 400, body: { error: 'The input data holds a value that cannot be stored' } });
    expect(gw.logs.some((l) => l.includes('input refused by the database'))).toBe(true);
    const row = (await gw.tdb.db('requests').where({ id }).first()) as { index_image: string | null };
    expect(row.index_image).toBeNull();
  });
});

/** mulberry32: a tiny seeded PRNG, so every run sends the same 300 requests. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID: [string, Record<string, unknown>][] = [
  [
    '/builds/add',
    { bundles: [B1], from_index: IDX, binary_image: BIN, build_tags: ['t'], organization: 'o' },
  ],
  ['/builds/rm', { operators: ['op'], from_index: IDX, binary_image: BIN, distribution_scope: 'prod' }],
  ['/builds/regenerate-bundle', { from_bundle_image: B1, bundle_replacements: { [B1]: `${B1}x` } }],
  ['/builds/merge-index-image', { source_from_index: IDX, target_index: IDX, binary_image: BIN }],
  [CEI, { from_index: IDX, binary_image: BIN, labels: { a: 'b' } }],
  ['/builds/recursive-related-bundles', { parent_bundle_image: B1 }],
  ['/builds/fbc-operations', { fbc_fragments: [B1], from_index: IDX, binary_image: BIN }],
  [
    '/builds/add-deprecations',
    {
      operator_package: 'p',
      deprecation_schema: '{"schema":"olm.deprecations"}',
      from_index: IDX,
      binary_image: BIN,
    },
  ],
  ['/builds/add-rm-batch', { build_requests: [{ bundles: [B1], binary_image: BIN }], annotations: { a: 1 } }],
  ['/builds/regenerate-bundle-batch', { build_requests: [{ from_bundle_image: B1 }] }],
];

/** Pieces a hostile client would splice into a body, as raw JSON text or bytes. */
const TEXT_SPLICES = [
  '\\u0000',
  '\\ud800',
  '\\udfff',
  '"',
  '{',
  '[',
  ']',
  '}',
  ',',
  ':',
  '\\',
  '1e999',
  'null',
  '%',
];
const BYTE_SPLICES = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x00], [0xe0, 0xa4]];
const VALUE_SPLICES: unknown[] = [
  null,
  true,
  -1,
  1e308,
  '',
  'x'.repeat(600),
  '\u0000',
  '\ud800',
  [],
  {},
  [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
  Array.from({ length: 600 }, (_, i) => `q.io/b:${i}`),
  { a: { b: ['c'] } },
];
const PATH_SPLICES = [
  '%',
  '%E0%A4%A',
  '%00',
  '%ZZ',
  '%ED%A0%80',
  '99999999999999999999',
  '-1',
  '1e3',
  '%2F..',
  '..',
];

function mutateBody(rnd: () => number, base: Record<string, unknown>): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const value: Record<string, unknown> = structuredClone(base);
  const keys = Object.keys(value);
  switch (Math.floor(rnd() * 5)) {
    case 0: // A value of the wrong kind or size.
      value[pick(keys)] = pick(VALUE_SPLICES);
      break;
    case 1: // An unknown or hostile key.
      value[pick(['x', '\u0000', '\ud800', '__proto__', 'constructor', 'k'.repeat(300)])] =
        pick(VALUE_SPLICES);
      break;
    default:
      break;
  }
  const text = Buffer.from(JSON.stringify(value));
  const at = Math.floor(rnd() * (text.length + 1));
  switch (Math.floor(rnd() * 4)) {
    case 0:
      return Buffer.concat([text.subarray(0, at), Buffer.from(pick(TEXT_SPLICES)), text.subarray(at)]);
    case 1:
      return Buffer.concat([text.subarray(0, at), Buffer.from(pick(BYTE_SPLICES)), text.subarray(at)]);
    case 2:
      return text.subarray(0, at);
    default:
      return text;
  }
}

function mutatePath(rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const splice = pick(PATH_SPLICES);
  return pick([
    `/builds/${splice}`,
    `/builds/1${splice}/logs`,
    `/builds/${splice}/related_bundles`,
    `/builds?user=${splice}`,
    `/builds?state=${splice}&state=complete`,
    `/builds?${splice}=1&page=${splice}`,
    `/builds?from_index_startswith=${splice}&per_page=${splice}`,
  ]);
}

describe('fuzz', () => {
  it('when 300 seeded mutations of valid requests are sent, then none is a 5xx and the gateway stays healthy', async () => {
    const rnd = prng(0x11b);
    const started = Date.now();
    const seen = new Map<number, number>();
    for (let i = 0; i < 300; i += 1) {
      const r =
        rnd() < 0.75
          ? await (async () => {
              const [path, body] = VALID[Math.floor(rnd() * VALID.length)]!;
              return raw('POST', path, mutateBody(rnd, body));
            })()
          : await raw('GET', mutatePath(rnd));
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
      expect([i, r.status < 500]).toEqual([i, true]);
      if (r.status >= 400) expect([i, typeof r.body?.error]).toEqual([i, 'string']);
    }
    // The mutations reach both sides of validation, or they would test nothing.
    expect(seen.get(400)).toBeGreaterThan(50);
    expect([...seen.keys()].some((s) => s === 200 || s === 201)).toBe(true);
    // Bounded in time as in count (about 6 s here; the machine is shared).
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(gw.logs.filter((l) => l.includes('"unexpected error"'))).toEqual([]);
    expect((await raw('GET', '/healthcheck')).status).toBe(200);
    expect((await raw('POST', CEI, json({ from_index: IDX, binary_image: BIN }))).status).toBe(201);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON documents are checked by value */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020';
import type { Express } from 'express';
import pino from 'pino';
import { loadGatewayConfig } from '../../shared/config';
import { createApp } from '../../services/gateway/http/app';
import type { RequestStore } from '../../services/gateway/requests/store';
import { API_ROUTES, expressPath } from '../../services/gateway/http/routes/table';
import { PAGE_ROUTES } from '../../services/gateway/ui/ui-routes';
import { repoRoot } from '../support/env';
import { call, Gateway, startGateway } from './gateway-harness';

const run = promisify(execFile);

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: string;
}

/** Every route express serves, `METHOD /path`, walking the routers it mounts (express 5 keeps rawPath). */
function servedRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') out.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
        }
      } else if (layer.handle.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out.sort();
}

/** `/builds/{id}` -> a JSON pointer segment. */
const pointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

describe('the OpenAPI document', () => {
  let gw: Gateway;
  let doc: any;
  let tmp: string;

  beforeAll(async () => {
    gw = await startGateway('docs', { IIB_GRAPH_MODE_OPTIONS: '["replaces","semver"]' });
    const served = await call('GET', `${gw.base}/openapi.json`);
    doc = served.body;
    tmp = mkdtempSync(path.join(tmpdir(), 'iib-openapi-'));
    writeFileSync(path.join(tmp, 'openapi.json'), served.text);
  });
  afterAll(async () => {
    await gw?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('when served, then swagger-parser validates it without errors', async () => {
    // swagger-parser loads ES modules, which jest's module system cannot; node can.
    const script =
      "require('@apidevtools/swagger-parser').validate(process.argv[1])" +
      ".then(() => console.log('valid'), (e) => console.log(e.message))";
    const file = path.join(tmp, 'openapi.json');
    const { stdout } = await run(process.execPath, ['-e', script, file], { cwd: repoRoot });
    expect(stdout.trim()).toBe('valid');
    expect(doc.openapi).toBe('3.1.0');
  });

  it("when linted with Redocly's recommended rules, then it has no errors (warnings are listed)", async () => {
    const file = path.join(tmp, 'openapi.json');
    {
      const cli = path.join(repoRoot, 'node_modules/@redocly/cli/bin/cli.js');
      // lint exits non-zero on errors; the JSON report is on stdout either way.
      const { stdout } = await run(
        process.execPath,
        [cli, 'lint', file, '--extends=recommended', '--format=json'],
        {
          env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
          maxBuffer: 16 * 1024 * 1024,
        },
      ).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
      const report = JSON.parse(stdout) as {
        totals: { errors: number; warnings: number };
        problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
      };
      const list = (severity: string): string[] =>
        report.problems
          .filter((p) => p.severity === severity)
          .map((p) => `${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`);
      if (report.totals.warnings > 0) console.warn(`Redocly warnings:\n${list('warn').join('\n')}`);
      expect(list('error')).toEqual([]);
      expect(report.totals.errors).toBe(0);
    }
  });

  it('when compared with express, then every served route is described and every described route is served', () => {
    const config = loadGatewayConfig({ IIB_DATABASE_URL: 'postgres://unused/x', LOGIN_DISABLED: 'true' });
    const app = createApp({
      config,
      store: {} as RequestStore,
      log: pino({ level: 'silent' }),
      authenticators: [],
      onCommitted: () => {},
    });
    const described = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} /api/v1${expressPath(p)}`),
    );
    const pages = PAGE_ROUTES.map((p) => `GET ${p}`);
    expect(servedRoutes(app)).toEqual([...described, ...pages].sort());
    expect(described).toHaveLength(API_ROUTES.length);
    // Besides the API, only the pages and their assets.
    expect(servedRoutes(app).filter((r) => !r.includes('/api/v1/'))).toEqual([...pages].sort());
  });

  it('when read, then every operation has a unique operationId, and login routes a security requirement', () => {
    const ops = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap(
      (o) => Object.values(o),
    );
    const ids = ops.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ops.length);
    expect(ids).toEqual(expect.arrayContaining(['listBuilds', 'getBuild', 'patchBuild', 'submitAddRmBatch']));
    expect(doc.paths['/builds/add'].post.security).toEqual([
      { negotiate: [] },
      { basic: [] },
      { bearer: [] },
    ]);
    expect(doc.paths['/builds'].get.security).toEqual([]);
  });

  it('when the configuration lists graph modes, then the document offers exactly those', () => {
    const add = doc.paths['/builds/add'].post.requestBody.content['application/json'].schema;
    expect(add.properties.graph_update_mode.enum).toEqual(['replaces', 'semver']);
    expect(add.properties.distribution_scope.enum).toEqual(['dev', 'stage', 'prod']);
  });

  describe('answers against the document', () => {
    let check: (method: string, p: string, status: number, value: unknown) => string[];

    beforeAll(() => {
      const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
      ajv.addSchema({ ...doc, $id: 'openapi.json' });
      check = (method, p, status, value) => {
        // Error answers refer to a shared response: follow it to its schema.
        const answer = doc.paths[p][method].responses[status] as { $ref?: string };
        const at = answer.$ref ? answer.$ref.slice(1) : `/paths/${pointer(p)}/${method}/responses/${status}`;
        const validate = ajv.compile({ $ref: `openapi.json#${at}/content/application~1json/schema` });
        return validate(value)
          ? []
          : (validate.errors ?? []).map((e) => `${method} ${p} ${e.instancePath} ${e.message ?? ''}`);
      };
    });

    const IMG = { from_index: 'q.io/ns/index:v1', binary_image: 'q.io/ns/opm:v1' };
    const bodies: [string, Record<string, unknown>][] = [
      ['add', { ...IMG, bundles: ['q.io/ns/b:1'] }],
      ['rm', { ...IMG, operators: ['op'] }],
      ['regenerate-bundle', { from_bundle_image: 'q.io/ns/b:1', bundle_replacements: { a: 'b' } }],
      [
        'merge-index-image',
        { source_from_index: 'q.io/ns/s:1', target_index: 'q.io/ns/t:1', binary_image: 'q.io/ns/opm:v1' },
      ],
      ['create-empty-index', { ...IMG, labels: { team: '<b>release</b>' } }],
      ['recursive-related-bundles', { parent_bundle_image: 'q.io/ns/b:1' }],
      ['fbc-operations', { ...IMG, fbc_fragments: ['q.io/ns/f:1'] }],
      ['fbc-operations', { ...IMG, fbc_fragment: 'q.io/ns/f:1' }],
      [
        'add-deprecations',
        { ...IMG, operator_package: 'op', deprecation_schema: '{"schema":"olm.deprecations"}' },
      ],
    ];

    it('when every request type is submitted, listed, read and patched, then each answer matches its schema', async () => {
      const problems: string[] = [];
      const ids: number[] = [];
      for (const [type, body] of bodies) {
        const res = await call('POST', `${gw.base}/builds/${type}`, body);
        expect(res.status).toBe(201);
        problems.push(...check('post', `/builds/${type}`, 201, res.body));
        ids.push(res.body.id);
      }
      const batch = await call('POST', `${gw.base}/builds/add-rm-batch`, {
        build_requests: [bodies[0]![1], bodies[1]![1]],
        annotations: { ticket: 'X-1' },
      });
      expect(batch.status).toBe(201);
      problems.push(...check('post', '/builds/add-rm-batch', 201, batch.body));
      const regen = await call('POST', `${gw.base}/builds/regenerate-bundle-batch`, {
        build_requests: [bodies[2]![1]],
      });
      problems.push(...check('post', '/builds/regenerate-bundle-batch', 201, regen.body));

      const patched = await call('PATCH', `${gw.base}/builds/${ids[4]!}`, {
        state: 'complete',
        state_reason: 'done',
        arches: ['amd64'],
        index_image: 'q.io/ns/iib-build:1',
      });
      expect(patched.status).toBe(200);
      problems.push(...check('patch', '/builds/{id}', 200, patched.body));
      for (const id of ids) {
        problems.push(
          ...check('get', '/builds/{id}', 200, (await call('GET', `${gw.base}/builds/${id}`)).body),
        );
      }
      for (const query of ['', '?verbose=true']) {
        const page = await call('GET', `${gw.base}/builds${query}`);
        expect(page.body.items.length).toBeGreaterThan(5);
        problems.push(...check('get', '/builds', 200, page.body));
      }
      const errors = await call('GET', `${gw.base}/builds?state=nope`);
      expect(errors.status).toBe(400);
      problems.push(...check('get', '/builds', 400, errors.body));
      expect(problems).toEqual([]);
    });

    it('when an answer lacks a key, then the check notices (the schemas are not vacuous)', async () => {
      const res = await call('GET', `${gw.base}/builds?verbose=true`);
      const item = { ...res.body.items[0] };
      delete item.state_history;
      expect(check('get', '/builds/{id}', 200, item)).not.toEqual([]);
      expect(check('get', '/builds/{id}', 200, { ...res.body.items[0], surprise: 1 })).not.toEqual([]);
    });
  });
});

describe('the documentation and the builds page', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway('pages');
  });
  afterAll(async () => {
    await gw?.stop();
  });
  const root = (): string => gw.base.replace('/api/v1', '');

  it('when /api/v1/docs is asked for, then ReDoc is served from the gateway, not a CDN', async () => {
    const page = await call('GET', `${gw.base}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.text).toContain('<redoc spec-url="openapi.json"');
    const scripts = [...page.text.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts).toEqual(['../../ui/vendor/redoc.standalone.js']);
    const script = await fetch(new URL(scripts[0]!, `${gw.base}/docs`));
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(500_000);
  });

  it('when / or /ui is asked for, then it leads to the builds page, whose scripts are served', async () => {
    for (const p of ['/', '/ui']) {
      const res = await fetch(`${root()}${p}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get('location')!, `${root()}${p}`).pathname).toBe('/ui/');
    }
    const page = await fetch(`${root()}/ui/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('src="app/main.js"');
    for (const asset of ['app/main.js', 'app/build-view.js', 'style.css']) {
      const res = await fetch(`${root()}/ui/${asset}`);
      expect([asset, res.status]).toEqual([asset, 200]);
    }
    expect((await call('GET', `${root()}/ui/app/nope.js`)).status).toBe(404);
  });
});

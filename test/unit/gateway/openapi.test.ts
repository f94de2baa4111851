/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked by value */
import { REQUEST_TYPES } from '../../../shared/contracts';
import { openApiDocument } from '../../../services/gateway/http/openapi';
import { requestSchemaName } from '../../../services/gateway/http/openapi-responses';
import { TYPE_FIELDS } from '../../../services/gateway/requests/request-json';
import {
  MethodNotAllowedError,
  methodNotAllowed,
} from '../../../services/gateway/http/routes/method-not-allowed';
import { API_ROUTES } from '../../../services/gateway/http/routes/table';
import { SINGLE_VALIDATORS } from '../../../services/gateway/http/routes/submit';
import { AppError } from '../../../shared/errors';
import { validateAdd } from '../../../services/gateway/requests/validation/add';
import type { ValidationContext } from '../../../services/gateway/requests/validation/common';
import { LIMITS } from '../../../services/gateway/requests/validation/limits';
import { SINGLE_ENDPOINTS } from '../../../services/gateway/requests/validation/schemas';

const ctx: ValidationContext = {
  user: null,
  authEnabled: false,
  binaryImageConfigured: true,
  graphModeOptions: [],
  graphModeIndexAllowList: [],
};

function messageOf(fn: () => unknown): string {
  try {
    fn();
    return '';
  } catch (err) {
    return err instanceof AppError ? err.message : String(err);
  }
}

describe('OpenAPI document', () => {
  const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, any>> };

  it('when generated, then every POST endpoint the app serves is described', () => {
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      ...Object.keys(SINGLE_VALIDATORS),
      '/builds/add-rm-batch',
      '/builds/regenerate-bundle-batch',
    ]) {
      expect(doc.paths[path]?.post).toBeDefined();
    }
    for (const path of ['/builds', '/builds/{id}', '/builds/{id}/logs', '/healthcheck']) {
      expect(doc.paths[path]?.get).toBeDefined();
    }
  });

  it.each(SINGLE_ENDPOINTS.map((e) => [e.path, e] as const))(
    'when %s gets a key its schema does not declare, then its validator rejects it',
    (path, e) => {
      const validate = SINGLE_VALIDATORS[path]!;
      const body = doc.paths[path]!.post.requestBody.content['application/json'].schema;
      expect(Object.keys(body.properties)).toEqual(Object.keys(e.fields));
      expect(messageOf(() => validate({ not_a_declared_key: 'x', from_index: 'a:b' }, ctx))).toMatch(
        /not_a_declared_key|must be|should be|Missing|Either/,
      );
    },
  );

  it.each(SINGLE_ENDPOINTS.map((e) => [e.path, e] as const))(
    'when %s gets each declared key, then its validator never calls it invalid',
    (path, e) => {
      const validate = SINGLE_VALIDATORS[path]!;
      for (const key of Object.keys(e.fields)) {
        expect(messageOf(() => validate({ [key]: 'x' }, ctx))).not.toContain(
          'The following parameters are invalid',
        );
      }
    },
  );

  it('when a field is a secret, then the document marks it write-only', () => {
    const add = doc.paths['/builds/add']!.post.requestBody.content['application/json'].schema;
    expect(add.properties.overwrite_from_index_token.writeOnly).toBe(true);
  });

  it('when a field has a size limit, then the document publishes the one the validator enforces', () => {
    const body = (path: string): any => doc.paths[path]!.post.requestBody.content['application/json'].schema;
    const add = body('/builds/add');
    expect(add.properties.build_tags).toMatchObject({
      maxItems: LIMITS.buildTags,
      items: { maxLength: 128 },
    });
    expect(add.properties.bundles).toMatchObject({ maxItems: LIMITS.bundles, items: { maxLength: 512 } });
    expect(add.properties.from_index.maxLength).toBe(LIMITS.pullSpecLength);
    expect(body('/builds/create-empty-index').properties.labels.maxProperties).toBe(LIMITS.labels);
    expect(body('/builds/add-rm-batch').properties.build_requests.maxItems).toBe(LIMITS.buildRequests);
    const tags = Array.from({ length: add.properties.build_tags.maxItems + 1 }, (_, i) => `t${i}`);
    expect(() =>
      validateAdd({ bundles: ['q.io/b:1'], binary_image: 'q.io/x:1', build_tags: tags }, ctx),
    ).toThrow(`"build_tags" must not hold more than ${LIMITS.buildTags} items`);
  });
});

describe('the route table behind the document', () => {
  const doc = openApiDocument() as { paths: Record<string, Record<string, any>>; components: any };

  it('when generated, then each route of the table is one operation with its operationId', () => {
    const ops = Object.entries(doc.paths).flatMap(([p, o]) =>
      Object.entries(o).map(([m, op]) => `${m} ${p} ${op.operationId as string}`),
    );
    expect(ops.sort()).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path} ${r.operationId}`).sort());
  });

  it('when a request type answers, then its schema holds every key requestJson gives it', () => {
    for (const type of REQUEST_TYPES) {
      for (const verbose of [false, true]) {
        const schema = doc.components.schemas[requestSchemaName(type, verbose)] as { required: string[] };
        const missing = TYPE_FIELDS[type].map(([key]) => key).filter((k) => !schema.required.includes(k));
        expect([type, verbose, missing]).toEqual([type, verbose, []]);
      }
    }
  });

  it('when a known URL gets another method, then the 405 lists the methods of the table', () => {
    const allowOf = (method: string, url: string): string[] | undefined => {
      let allow: string[] | undefined;
      try {
        methodNotAllowed()({ method, path: url } as never, {} as never, () => undefined);
      } catch (err) {
        allow = err instanceof MethodNotAllowedError ? err.allow : undefined;
      }
      return allow;
    };
    expect(allowOf('DELETE', '/builds/7')).toEqual(['GET', 'HEAD', 'PATCH', 'OPTIONS']);
    expect(allowOf('GET', '/builds/add-rm-batch/')).toEqual(['POST', 'OPTIONS']);
    expect(allowOf('POST', '/docs')).toEqual(['GET', 'HEAD', 'OPTIONS']);
    expect(allowOf('GET', '/builds/7')).toBeUndefined();
    expect(allowOf('GET', '/builds/x/logs')).toBeUndefined();
  });
});

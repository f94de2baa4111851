import { REQUEST_TYPES, STATES } from '../../shared/contracts';
import { LIMITS } from './validation/limits';
import { EndpointSchema, FieldSpec, FieldType, fieldLimits, SINGLE_ENDPOINTS } from './validation/schemas';

type Json = Record<string, unknown>;

const TYPE_SCHEMAS: Record<FieldType, Json> = {
  pullspec: { type: 'string', description: 'A pull spec with a tag or a digest' },
  string: { type: 'string' },
  boolean: { type: 'boolean' },
  'string[]': { type: 'array', items: { type: 'string', minLength: 1 } },
  'pullspec[]': { type: 'array', items: { type: 'string', minLength: 1 } },
  stringMap: { type: 'object', additionalProperties: { type: 'string' } },
  object: { type: 'object' },
  registryAuths: {
    type: 'object',
    required: ['auths'],
    additionalProperties: false,
    properties: {
      auths: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          required: ['auth'],
          additionalProperties: false,
          properties: { auth: { type: 'string' } },
        },
      },
    },
  },
  jsonString: { type: 'string', contentMediaType: 'application/json' },
};

/** The field's size limits in JSON Schema words, from the same declaration the validators use. */
function limitKeywords(spec: FieldSpec, base: Json): Json {
  const { kind, maxItems, maxLength } = fieldLimits(spec);
  const length = maxLength === undefined ? {} : { maxLength };
  if (kind === 'string') return length;
  if (kind === 'list') {
    return {
      ...(maxItems === undefined ? {} : { maxItems }),
      items: { ...(base.items as Json), ...length },
    };
  }
  if (kind === 'map') {
    return {
      ...(maxItems === undefined ? {} : { maxProperties: maxItems }),
      ...(maxLength === undefined
        ? {}
        : { propertyNames: length, additionalProperties: { type: 'string', ...length } }),
    };
  }
  if (spec.type === 'registryAuths') {
    const props = base.properties as { auths: Json };
    return {
      properties: {
        auths: {
          ...props.auths,
          maxProperties: LIMITS.registryAuths,
          propertyNames: { maxLength: LIMITS.secretLength },
          additionalProperties: {
            ...(props.auths.additionalProperties as Json),
            properties: { auth: { type: 'string', maxLength: LIMITS.secretLength } },
          },
        },
      },
    };
  }
  return {};
}

function fieldSchema(spec: FieldSpec): Json {
  const base = TYPE_SCHEMAS[spec.type];
  const out: Json = { ...base, ...limitKeywords(spec, base), description: spec.description };
  if (spec.secret) out.writeOnly = true;
  if (spec.deprecated) out.deprecated = true;
  return out;
}

/** The request body schema of an endpoint, from the table its validator uses. */
export function bodySchema(e: EndpointSchema): Json {
  return {
    type: 'object',
    additionalProperties: false,
    required: e.required,
    properties: Object.fromEntries(Object.entries(e.fields).map(([k, v]) => [k, fieldSchema(v)])),
  };
}

const error = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const ERRORS = {
  '400': error('Invalid input'),
  '401': error('Not authenticated'),
  '403': error('Not allowed'),
  '503': error('Database unavailable'),
};
const ok = (description: string, schema: Json): Json => ({
  description,
  content: { 'application/json': { schema } },
});
const REQUEST = { $ref: '#/components/schemas/Request' };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const query = (name: string, schema: Json, description: string): Json => ({
  name,
  in: 'query',
  schema,
  description,
});

function post(e: EndpointSchema, batch = false): Json {
  const body = batch
    ? {
        type: 'object',
        required: ['build_requests'],
        additionalProperties: false,
        properties: {
          build_requests: {
            type: 'array',
            minItems: 1,
            maxItems: LIMITS.buildRequests,
            items: bodySchema(e),
          },
          annotations: { type: 'object', maxProperties: LIMITS.annotationKeys },
        },
      }
    : bodySchema(e);
  return {
    post: {
      summary: batch ? `${e.summary}, in one batch` : e.summary,
      security: [{ basic: [] }, { bearer: [] }, {}],
      requestBody: { required: true, content: { 'application/json': { schema: body } } },
      responses: {
        '201': ok('Created', batch ? { type: 'array', items: REQUEST } : REQUEST),
        ...ERRORS,
      },
    },
  };
}

/** OpenAPI 3 description of the API, generated from the validators' schemas. */
export function openApiDocument(serverUrl = '/api/v1'): Json {
  const paths: Json = {};
  for (const e of SINGLE_ENDPOINTS) paths[e.path] = post(e);
  const byPath = Object.fromEntries(SINGLE_ENDPOINTS.map((e) => [e.path, e]));
  const regen = byPath['/builds/regenerate-bundle'] as EndpointSchema;
  paths['/builds/regenerate-bundle-batch'] = post(
    { ...regen, path: '/builds/regenerate-bundle-batch' },
    true,
  );
  const add = byPath['/builds/add'] as EndpointSchema;
  const rm = byPath['/builds/rm'] as EndpointSchema;
  const addRm: EndpointSchema = {
    path: '/builds/add-rm-batch',
    summary: 'Add bundles to or remove operators from index images',
    required: [],
    fields: { ...add.fields, ...rm.fields },
  };
  paths['/builds/add-rm-batch'] = post(addRm, true);
  paths['/builds'] = {
    get: {
      summary: 'List build requests, newest first',
      parameters: [
        query('page', { type: 'integer', minimum: 1, default: 1 }, 'Page number'),
        query(
          'per_page',
          { type: 'integer', minimum: 1, default: 20 },
          'Page size (capped by IIB_MAX_PER_PAGE)',
        ),
        query('verbose', { type: 'boolean' }, 'Verbose items (true or 1)'),
        query('state', { type: 'string', enum: [...STATES] }, 'Current state'),
        query('batch', { type: 'integer', minimum: 1 }, 'Batch id'),
        query('request_type', { type: 'string', enum: ['generic', ...REQUEST_TYPES] }, 'Request type'),
        query('user', { type: 'string' }, 'User who submitted'),
        query('from_index', { type: 'string' }, 'Exact from_index'),
        query('from_index_startswith', { type: 'string' }, 'from_index prefix'),
        query('index_image', { type: 'string' }, 'Exact built index image'),
      ],
      responses: {
        '200': ok('A page of requests', {
          type: 'object',
          properties: {
            items: { type: 'array', items: REQUEST },
            meta: { $ref: '#/components/schemas/Meta' },
          },
        }),
        '400': ERRORS['400'],
        '404': error('No such page'),
      },
    },
  };
  paths['/builds/{id}'] = {
    get: {
      summary: 'One request (verbose)',
      parameters: [idParam],
      responses: { '200': ok('The request', REQUEST) },
    },
    patch: {
      summary: 'Update a request (IIB workers only)',
      parameters: [idParam],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: { '200': ok('The updated request', REQUEST), ...ERRORS },
    },
  };
  const text = (mime: string, summary: string): Json => ({
    get: {
      summary,
      parameters: [idParam],
      responses: {
        '200': { description: summary, content: { [mime]: {} } },
        '400': ERRORS['400'],
        '404': error('Not found'),
        '410': error('Expired'),
      },
    },
  });
  paths['/builds/{id}/logs'] = text(
    'text/plain',
    'The request log; with ?follow=true it streams while the request runs and ends at its final state',
  );
  paths['/builds/{id}/related_bundles'] = text('application/json', 'Related bundles (regenerate-bundle)');
  paths['/builds/{id}/nested-bundles'] = text(
    'application/json',
    'Nested bundles (recursive-related-bundles)',
  );
  paths['/builds/{id}/deprecation-schema'] = text(
    'application/json',
    'Deprecation schema (add-deprecations)',
  );
  paths['/healthcheck'] = {
    get: {
      summary: 'Database health',
      responses: { '200': ok('Healthy', { type: 'object' }), '500': error('Down') },
    },
  };
  return {
    openapi: '3.0.3',
    info: {
      title: 'IIB API',
      version: '1.0.0',
      description: 'The index image build API, compatible with IIB.',
    },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
        Request: {
          type: 'object',
          required: ['id', 'arches', 'batch', 'request_type', 'state', 'state_reason', 'updated', 'user'],
          properties: {
            id: { type: 'integer' },
            arches: { type: 'array', items: { type: 'string' } },
            batch: { type: 'integer' },
            request_type: { type: 'string', enum: [...REQUEST_TYPES] },
            state: { type: 'string', enum: [...STATES] },
            state_reason: { type: 'string' },
            updated: { type: 'string', format: 'date-time' },
            user: { type: 'string', nullable: true },
            batch_annotations: { type: 'object', nullable: true },
            state_history: { type: 'array', items: { type: 'object' } },
            logs: { type: 'object', properties: { expiration: { type: 'string' }, url: { type: 'string' } } },
          },
          additionalProperties: true,
        },
        Meta: {
          type: 'object',
          properties: Object.fromEntries([
            ...['first', 'last', 'next', 'previous'].map((k): [string, Json] => [
              k,
              { type: 'string', nullable: true },
            ]),
            ...['page', 'pages', 'per_page', 'total'].map((k): [string, Json] => [k, { type: 'integer' }]),
          ]),
        },
      },
    },
  };
}

import { STATES } from '../../../shared/contracts';
import { TEXT_FILTERS, TYPE_NAMES } from './listing';
import { batchBodySchema, BodyOptions, bodySchema, Json, patchBodySchema } from './openapi-bodies';
import { errorResponses, errors, requestSchemaName, responseSchemas } from './openapi-responses';
import { API_ROUTES, ApiRoute, RouteKind } from './routes/table';

export { bodySchema } from './openapi-bodies';

export interface DocumentOptions extends BodyOptions {
  /** Where the API is mounted, as clients reach it. */
  serverUrl?: string;
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (description: string, schema: Json): Json => ({
  description,
  content: { 'application/json': { schema } },
});
const ID: Json = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The request id',
  schema: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
};
const query = (name: string, schema: Json, description: string): Json => ({
  name,
  in: 'query',
  required: false,
  schema,
  description,
});
const body = (schema: Json): Json => ({
  required: true,
  content: { 'application/json': { schema } },
});

const LIST_PARAMETERS: Json[] = [
  query('page', { type: 'integer', minimum: 1, default: 1 }, 'Page number; past the last page is a 404'),
  query('per_page', { type: 'integer', minimum: 1, default: 20 }, 'Page size, capped by IIB_MAX_PER_PAGE'),
  query('verbose', { type: 'string', enum: ['true', '1'] }, 'Answer verbose items'),
  query('state', { type: 'string', enum: [...STATES] }, 'Current state'),
  query('batch', { type: 'integer', minimum: 1 }, 'Batch id'),
  query('request_type', { type: 'string', enum: [...TYPE_NAMES] }, 'Request type'),
  ...Object.entries(TEXT_FILTERS).map(([name, description]) => query(name, { type: 'string' }, description)),
];

type Spec<K extends RouteKind['kind']> = Extract<RouteKind, { kind: K }>;

/** The submissions: a body to validate, the new requests in answer. */
function submitOperation(spec: Spec<'submit' | 'batch'>, options: BodyOptions): Json {
  switch (spec.kind) {
    case 'submit':
      return {
        requestBody: body(bodySchema(spec.schema, options)),
        responses: {
          '201': json(
            'Created: the request',
            ref(requestSchemaName(spec.schema.path.replace('/builds/', ''), true)),
          ),
          ...errors('400', '401', '403', '405', '413', '415', '503'),
        },
      };
    case 'batch':
      return {
        requestBody: body(batchBodySchema(spec.batch, options)),
        responses: {
          '201': json('Created: the requests of the new batch, in order', {
            type: 'array',
            items: ref('RequestVerbose'),
          }),
          ...errors('400', '401', '403', '405', '413', '415', '503'),
        },
      };
  }
}

/** Reading and updating requests. */
function requestOperation(kind: 'list' | 'get' | 'patch'): Json {
  switch (kind) {
    case 'list':
      return {
        parameters: LIST_PARAMETERS,
        responses: {
          '200': json('A page of requests; meta links are absolute and keep the filters', ref('Page')),
          ...errors('400', '404', '405', '503'),
        },
      };
    case 'get':
      return {
        parameters: [ID],
        responses: { '200': json('The request', ref('RequestVerbose')), ...errors('404', '405', '503') },
      };
    case 'patch':
      return {
        parameters: [ID],
        requestBody: body(patchBodySchema()),
        responses: {
          '200': json('The updated request', ref('RequestVerbose')),
          ...errors('400', '401', '403', '404', '405', '413', '415', '503'),
        },
      };
  }
}

/** A request's temporary data, served once it is final. */
function dataOperation(spec: Spec<'logs' | 'artifact'>): Json {
  switch (spec.kind) {
    case 'logs':
      return {
        description:
          'Served once the request is final. With follow=true (our extension) the log streams while the request runs, chunk by chunk, and ends once it is final.',
        parameters: [
          ID,
          query(
            'follow',
            { type: 'string', enum: ['true', '1'] },
            'Stream the log until the request is final',
          ),
        ],
        responses: {
          '200': {
            description: 'The log, one line per event',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...errors('400', '404', '405', '410', '503'),
        },
      };
    case 'artifact':
      return {
        description: `Only for ${spec.requestType} requests, once final.`,
        parameters: [ID],
        responses: {
          '200': json('The stored JSON', {}),
          ...errors(
            '400',
            '404',
            '405',
            ...(spec.requestType === 'add-deprecations' ? [] : ['410' as const]),
            '503',
          ),
        },
      };
  }
}

/** The service itself. */
function serviceOperation(kind: 'healthcheck' | 'openapi' | 'docs'): Json {
  switch (kind) {
    case 'healthcheck':
      return {
        responses: {
          '200': json('The database answers', {
            type: 'object',
            required: ['status'],
            properties: { status: { type: 'string', const: 'Health check OK' } },
          }),
          ...errors('405', '500'),
        },
      };
    case 'openapi':
      return {
        responses: { '200': json('An OpenAPI 3.1 document', { type: 'object' }), ...errors('405') },
      };
    case 'docs':
      return {
        responses: {
          '200': { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
          ...errors('405'),
        },
      };
  }
}

/** The parameters, body and answers of one operation, by its kind. */
function operationBody(route: ApiRoute, options: BodyOptions): Json {
  const spec = route.spec;
  switch (spec.kind) {
    case 'submit':
    case 'batch':
      return submitOperation(spec, options);
    case 'list':
    case 'get':
    case 'patch':
      return requestOperation(spec.kind);
    case 'logs':
    case 'artifact':
      return dataOperation(spec);
    default:
      return serviceOperation(spec.kind);
  }
}

function operation(route: ApiRoute, options: BodyOptions): Json {
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    // No security on a route that needs none; login routes take any configured scheme.
    security: route.login ? [{ negotiate: [] }, { basic: [] }, { bearer: [] }] : [],
    ...operationBody(route, options),
  };
}

/**
 * OpenAPI 3.1 description of the API, generated from the route table and
 * the validators' declarations: what is validated and served is what is
 * described.
 */
export function openApiDocument(options: DocumentOptions = {}): Json {
  const paths: Record<string, Json> = {};
  for (const route of API_ROUTES) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route, options) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'IIB API',
      version: '1.0.0',
      description:
        'The index image build API, compatible with IIB (release-engineering/iib). Errors are `{"error": "..."}`. ' +
        "Submitting and the workers' PATCH need login unless the gateway runs with LOGIN_DISABLED; " +
        'behind a trusted proxy, the proxy authenticates.',
      license: { name: 'Apache 2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: options.serverUrl ?? '/api/v1' }],
    tags: [
      { name: 'Builds', description: "Reading build requests, and the workers' updates" },
      { name: 'Submit', description: 'Creating build requests' },
      { name: 'Service', description: 'Health and documentation' },
    ],
    paths,
    components: {
      securitySchemes: {
        // IIB's own document calls this one "Kerberos Authentication".
        negotiate: { type: 'http', scheme: 'negotiate', description: 'IIB_AUTH_MODES=kerberos' },
        basic: { type: 'http', scheme: 'basic', description: 'IIB_AUTH_MODES=basic' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'IIB_AUTH_MODES=jwt' },
      },
      schemas: responseSchemas(),
      responses: errorResponses(),
    },
  };
}

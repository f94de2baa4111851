import type { RequestType } from '../../../shared/contracts';
import { REQUEST_TYPES, STATES } from '../../../shared/contracts';
import type { Json } from './openapi-bodies';
import { TYPE_FIELDS, VERBOSE_ARTIFACTS } from '../requests/request-json';
import { pascal } from './routes/table';

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string): Json => ({ type: [type, 'null'] });
const STRING_LIST: Json = { type: 'array', items: { type: 'string' } };
const TIME: Json = { type: 'string', format: 'date-time', description: 'UTC, ISO 8601 with microseconds' };

/**
 * Values of the type-specific keys whose JSON is not a string, a list of
 * strings or an object: the keys themselves come from TYPE_FIELDS, which
 * requestJson answers with.
 */
const FIELD_VALUES: Record<string, Json> = {
  bundle_mapping: {
    type: 'object',
    additionalProperties: STRING_LIST,
    description: 'Package -> bundles',
  },
  bundle_replacements: { type: 'object', additionalProperties: { type: 'string' } },
  check_related_images: nullable('boolean'),
  ignore_bundle_ocp_version: nullable('boolean'),
  labels: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
  omps_operator_version: { type: 'object' },
  related_bundles: { oneOf: [ref('ArtifactLink'), { type: 'null' }] },
  nested_bundles: { oneOf: [ref('ArtifactLink'), { type: 'null' }] },
};

/** Keys requestJson adds outside TYPE_FIELDS: the legacy fragment of fbc-operations. */
const EXTRA_FIELDS: Partial<Record<RequestType, string[]>> = {
  'fbc-operations': ['fbc_fragment', 'fbc_fragment_resolved'],
};

const BASE: Record<string, Json> = {
  id: { type: 'integer', minimum: 1 },
  arches: { ...STRING_LIST, description: 'Architectures built, sorted' },
  batch: { type: 'integer', minimum: 1 },
  request_type: { type: 'string', enum: [...REQUEST_TYPES] },
  state: { type: 'string', enum: [...STATES] },
  state_reason: { type: 'string' },
  updated: TIME,
  user: nullable('string'),
};

const VERBOSE: Record<string, Json> = {
  batch_annotations: { type: ['object', 'null'] },
  logs: ref('ArtifactLink'),
  state_history: {
    type: 'array',
    description: 'Newest first',
    items: ref('StateChange'),
  },
  trace_id: { ...nullable('string'), description: 'The W3C trace id of the request (our extension)' },
};

/** The JSON of one request type, as requestJson answers it (verbose adds the links and history). */
function requestSchema(type: RequestType, verbose: boolean): Json {
  const props: Record<string, Json> = { ...BASE, request_type: { type: 'string', const: type } };
  for (const [key, dflt] of TYPE_FIELDS[type]) {
    props[key] =
      FIELD_VALUES[key] ??
      (dflt === 'list' ? STRING_LIST : dflt === 'map' ? { type: 'object' } : nullable('string'));
  }
  for (const key of EXTRA_FIELDS[type] ?? []) props[key] = nullable('string');
  if (verbose) {
    Object.assign(props, VERBOSE);
    for (const [key, { kind }] of Object.entries(VERBOSE_ARTIFACTS[type] ?? {})) {
      props[key] = kind === 'link' ? ref('ArtifactLink') : { type: 'string', format: 'uri' };
    }
  }
  return {
    type: 'object',
    title: `${type}${verbose ? ' (verbose)' : ''}`,
    additionalProperties: false,
    required: Object.keys(props).filter((k) => !(EXTRA_FIELDS[type] ?? []).includes(k)),
    properties: props,
  };
}

export const requestSchemaName = (type: string, verbose: boolean): string =>
  `${pascal(type)}Request${verbose ? 'Verbose' : ''}`;

/** One of the request types, told apart by request_type. */
function anyRequest(verbose: boolean): Json {
  return {
    oneOf: REQUEST_TYPES.map((t) => ref(requestSchemaName(t, verbose))),
    discriminator: {
      propertyName: 'request_type',
      mapping: Object.fromEntries(
        REQUEST_TYPES.map((t) => [t, `#/components/schemas/${requestSchemaName(t, verbose)}`]),
      ),
    },
  };
}

/** components.schemas for the answers. */
export function responseSchemas(): Record<string, Json> {
  const perType = REQUEST_TYPES.flatMap((t): [string, Json][] => [
    [requestSchemaName(t, false), requestSchema(t, false)],
    [requestSchemaName(t, true), requestSchema(t, true)],
  ]);
  return {
    Error: {
      type: 'object',
      required: ['error'],
      additionalProperties: false,
      properties: { error: { type: 'string' } },
    },
    Request: { description: 'A build request as GET /builds lists it', ...anyRequest(false) },
    RequestVerbose: {
      description: 'A build request with its history and links',
      ...anyRequest(true),
    },
    ...Object.fromEntries(perType),
    ArtifactLink: {
      type: 'object',
      required: ['expiration', 'url'],
      additionalProperties: false,
      properties: {
        expiration: { ...TIME, description: 'When the data is removed' },
        url: { type: 'string', format: 'uri' },
      },
    },
    StateChange: {
      type: 'object',
      required: ['state', 'state_reason', 'updated'],
      additionalProperties: false,
      properties: { state: BASE.state, state_reason: BASE.state_reason, updated: TIME },
    },
    Page: {
      type: 'object',
      required: ['items', 'meta'],
      additionalProperties: false,
      properties: {
        items: {
          type: 'array',
          description: 'Request (verbose=RequestVerbose)',
          items: { anyOf: [ref('Request'), ref('RequestVerbose')] },
        },
        meta: ref('PageMeta'),
      },
    },
    PageMeta: {
      type: 'object',
      required: ['first', 'last', 'next', 'page', 'pages', 'per_page', 'previous', 'total'],
      additionalProperties: false,
      properties: Object.fromEntries([
        ...['first', 'last'].map((k): [string, Json] => [k, { type: 'string', format: 'uri' }]),
        ...['next', 'previous'].map((k): [string, Json] => [k, { type: ['string', 'null'], format: 'uri' }]),
        ...['page', 'pages', 'per_page', 'total'].map((k): [string, Json] => [
          k,
          { type: 'integer', minimum: 0 },
        ]),
      ]),
    },
  };
}

/** IIB's error answers, `{"error": ...}`, as reusable responses. */
export const ERROR_RESPONSES = {
  '400': ['BadRequest', 'The input is invalid (the message says why)'],
  '401': ['Unauthorized', 'Login is required and no credentials were accepted'],
  '403': [
    'Forbidden',
    'Not allowed: a non-worker PATCH, an overwrite without a token, a graph mode on an index not allow-listed',
  ],
  '404': ['NotFound', 'The requested resource was not found'],
  '405': ['MethodNotAllowed', 'The URL exists with other methods (listed in Allow)'],
  '410': ['Gone', 'The data expired (IIB_REQUEST_DATA_DAYS_TO_LIVE)'],
  '413': ['PayloadTooLarge', 'The body is larger than IIB_MAX_BODY_BYTES (after decompression)'],
  '415': ['UnsupportedMediaType', 'An unsupported charset or content encoding'],
  '500': ['ServerError', 'The database health check failed'],
  '503': ['ServiceUnavailable', 'The database is unavailable, try again later'],
} as const;

export type ErrorStatus = keyof typeof ERROR_RESPONSES;

export function errorResponses(): Record<string, Json> {
  return Object.fromEntries(
    Object.entries(ERROR_RESPONSES).map(([status, [name, description]]) => {
      const headers: Json =
        status === '401'
          ? { 'WWW-Authenticate': { description: 'The accepted schemes', schema: { type: 'string' } } }
          : status === '405'
            ? { Allow: { description: 'The methods of this URL', schema: { type: 'string' } } }
            : {};
      return [
        name,
        {
          description,
          ...(Object.keys(headers).length > 0 ? { headers } : {}),
          content: { 'application/json': { schema: ref('Error') } },
        },
      ];
    }),
  );
}

/** `responses` entries referring to the shared error answers. */
export function errors(...statuses: ErrorStatus[]): Json {
  return Object.fromEntries(
    statuses.map((s) => [s, { $ref: `#/components/responses/${ERROR_RESPONSES[s][0]}` }]),
  );
}

import type { RequestType } from '../../../shared/contracts';
import { STATES } from '../../../shared/contracts';
import { MUTABLE_KEYS } from '../requests/validation/patch';
import type { BatchEndpoint } from '../requests/validation/batch-schemas';
import { LIMITS } from '../requests/validation/limits';
import { EndpointSchema, FieldSpec, FieldType, fieldLimits } from '../requests/validation/schemas';

export type Json = Record<string, unknown>;

/** What the document knows about the deployment beyond the field table. */
export interface BodyOptions {
  /** IIB_GRAPH_MODE_OPTIONS: the values graph_update_mode accepts. */
  graphModeOptions?: readonly string[];
}

/** IIB's Image.get_or_create check (checkPullSpec): a tag or a digest, or `scratch`. */
const PULL_SPEC_PATTERN = '[:@]|^scratch$';

const TYPE_SCHEMAS: Record<FieldType, Json> = {
  pullspec: { type: 'string', minLength: 1, pattern: PULL_SPEC_PATTERN },
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
        minProperties: 1,
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
    // validateRegistryAuths applies these one level down.
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

function fieldSchema(name: string, spec: FieldSpec, options: BodyOptions): Json {
  const base = TYPE_SCHEMAS[spec.type];
  const out: Json = { ...base, ...limitKeywords(spec, base), description: spec.description };
  const values = name === 'graph_update_mode' ? options.graphModeOptions : spec.enum;
  if (values && values.length > 0) out.enum = [...values];
  if (spec.secret) out.writeOnly = true;
  if (spec.deprecated) out.deprecated = true;
  return out;
}

/** The request body schema of an endpoint, from the table its validator uses. */
export function bodySchema(e: EndpointSchema, options: BodyOptions = {}): Json {
  return {
    type: 'object',
    description: e.summary,
    additionalProperties: false,
    required: e.required,
    properties: Object.fromEntries(Object.entries(e.fields).map(([k, v]) => [k, fieldSchema(k, v, options)])),
  };
}

/** A batch body: its items follow exactly one of the endpoint's item bodies. */
export function batchBodySchema(b: BatchEndpoint, options: BodyOptions = {}): Json {
  const items = b.items.map((e) => bodySchema(e, options));
  return {
    type: 'object',
    required: ['build_requests'],
    additionalProperties: false,
    properties: {
      build_requests: {
        type: 'array',
        minItems: 1,
        maxItems: LIMITS.buildRequests,
        items: items.length === 1 ? items[0] : { oneOf: items },
      },
      annotations: {
        type: 'object',
        maxProperties: LIMITS.annotationKeys,
        description: 'Free-form annotations of the batch, answered as batch_annotations',
      },
    },
  };
}

const STRING_LIST = { type: 'array', items: { type: 'string' } };

/** How validatePatch checks each mutable key. */
function patchValue(key: string): Json {
  switch (key) {
    case 'arches':
      return { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } };
    case 'state':
      return { type: 'string', enum: [...STATES] };
    case 'bundle_mapping':
      return { type: 'object', additionalProperties: STRING_LIST };
    case 'bundles':
    case 'fbc_fragments':
    case 'fbc_fragments_resolved':
      return STRING_LIST;
    case 'bundle_replacements':
      return { type: 'object', additionalProperties: { type: 'string' } };
    case 'omps_operator_version':
      return { type: 'string', contentMediaType: 'application/json' };
    default:
      return { type: 'string', minLength: 1 };
  }
}

/** The workers' PATCH body: the union of IIB's mutable keys, each request type allowing its own. */
export function patchBodySchema(): Json {
  const keys = [...new Set(Object.values(MUTABLE_KEYS).flat())].sort();
  const byType = (Object.entries(MUTABLE_KEYS) as [RequestType, string[]][])
    .map(([type, allowed]) => `- ${type}: ${allowed.join(', ')}`)
    .join('\n');
  return {
    type: 'object',
    minProperties: 1,
    additionalProperties: false,
    description: `state and state_reason go together. The keys allowed depend on the request type:\n\n${byType}`,
    properties: Object.fromEntries(keys.map((k) => [k, patchValue(k)])),
  };
}

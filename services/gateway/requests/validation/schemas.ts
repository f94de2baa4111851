/**
 * The body of every POST endpoint, declared once: the validators take their
 * required and allowed keys from here, and the OpenAPI document is generated
 * from the same table, so the two cannot drift (a unit test holds them together).
 */

import { FieldLimits, LIMITS } from './limits';

export type FieldType =
  | 'pullspec'
  | 'string'
  | 'boolean'
  | 'string[]'
  | 'pullspec[]'
  | 'stringMap'
  | 'object'
  | 'registryAuths'
  | 'jsonString';

export interface FieldSpec {
  type: FieldType;
  description: string;
  /** Never stored, never echoed: sealed for the builder. */
  secret?: boolean;
  /** Accepted for compatibility, ignored. */
  deprecated?: boolean;
  /** Size limits beyond those of its type (see `fieldLimits`). */
  limits?: FieldLimits;
  /** The values the validator accepts (compared case-insensitively where the description says so). */
  enum?: readonly string[];
}

export interface EndpointSchema {
  /** Path under /api/v1. */
  path: string;
  summary: string;
  required: string[];
  fields: Record<string, FieldSpec>;
}

const f = (type: FieldType, description: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  type,
  description,
  ...extra,
});

const SECRET: Partial<FieldSpec> = { secret: true, limits: { maxLength: LIMITS.secretLength } };
const NAME: Partial<FieldSpec> = { limits: { maxLength: LIMITS.nameLength } };
/** IIB's distribution scopes; validateDistributionScope accepts these, lowercased. */
export const DISTRIBUTION_SCOPES = ['dev', 'stage', 'prod'] as const;

const items = (maxItems: number): Partial<FieldSpec> => ({ limits: { maxItems } });

/** RequestIndexImageMixin's shared optional keys. */
const INDEX_SHARED: Record<string, FieldSpec> = {
  add_arches: f('string[]', 'Architectures to build for, in addition to those of from_index', {
    limits: { maxItems: LIMITS.addArches, maxLength: LIMITS.nameLength },
  }),
  binary_image: f('pullspec', 'The opm binary image; optional when IIB_BINARY_IMAGE_CONFIG is set'),
  overwrite_from_index: f('boolean', 'Push the result onto from_index (requires overwrite_from_index_token)'),
  overwrite_from_index_token: f('string', '"user:token" allowed to push to from_index', SECRET),
  distribution_scope: f('string', 'dev, stage or prod (case-insensitive)', { enum: DISTRIBUTION_SCOPES }),
  build_tags: f('string[]', 'Extra tags for the built index image', {
    limits: { maxItems: LIMITS.buildTags, maxLength: LIMITS.tagLength },
  }),
  output_fbc: f('boolean', 'Produce a file-based catalog'),
};

const FROM_INDEX = f('pullspec', 'The index image to start from');
const ORGANIZATION = f('string', 'Organization of the customizations to apply', NAME);
const REGISTRY_AUTHS = f('registryAuths', 'Docker config {"auths": {"<registry>": {"auth": "<base64>"}}}', {
  secret: true,
});
const GRAPH_MODE = f(
  'string',
  'Graph update mode (one of IIB_GRAPH_MODE_OPTIONS); allow-listed indexes only',
);
const DEPRECATION_LIST = f('pullspec[]', 'Bundles to deprecate', items(LIMITS.deprecationList));

export const ADD: EndpointSchema = {
  path: '/builds/add',
  summary: 'Add operator bundles to an index image',
  required: [],
  fields: {
    bundles: f(
      'pullspec[]',
      'Bundle images to add (duplicates are removed, order kept)',
      items(LIMITS.bundles),
    ),
    from_index: FROM_INDEX,
    ...INDEX_SHARED,
    organization: ORGANIZATION,
    cnr_token: f('string', 'Legacy, ignored', {
      deprecated: true,
      limits: { maxLength: LIMITS.secretLength },
    }),
    force_backport: f('boolean', 'Legacy, ignored', { deprecated: true }),
    deprecation_list: DEPRECATION_LIST,
    graph_update_mode: GRAPH_MODE,
    check_related_images: f('boolean', 'Check related images of the bundles (only with bundles)'),
  },
};

export const RM: EndpointSchema = {
  path: '/builds/rm',
  summary: 'Remove operators from an index image',
  required: ['operators', 'from_index'],
  fields: {
    operators: f('string[]', 'Operator packages to remove', {
      limits: { maxItems: LIMITS.operators, maxLength: LIMITS.nameLength },
    }),
    from_index: FROM_INDEX,
    ...INDEX_SHARED,
  },
};

export const REGENERATE_BUNDLE: EndpointSchema = {
  path: '/builds/regenerate-bundle',
  summary: 'Regenerate a bundle image with pinned pull specs',
  required: ['from_bundle_image'],
  fields: {
    from_bundle_image: f('pullspec', 'The bundle image to regenerate'),
    organization: ORGANIZATION,
    bundle_replacements: f('stringMap', 'Pull spec replacements, old -> new', {
      limits: { maxItems: LIMITS.bundleReplacements, maxLength: LIMITS.pullSpecLength },
    }),
    registry_auths: REGISTRY_AUTHS,
  },
};

export const MERGE_INDEX_IMAGE: EndpointSchema = {
  path: '/builds/merge-index-image',
  summary: 'Merge the bundles of one index image into another',
  required: ['source_from_index'],
  fields: {
    source_from_index: f('pullspec', 'The index image whose bundles are merged'),
    target_index: f('pullspec', 'The index image merged into'),
    deprecation_list: DEPRECATION_LIST,
    binary_image: INDEX_SHARED.binary_image as FieldSpec,
    overwrite_target_index: f('boolean', 'Push the result onto target_index (requires the token)'),
    overwrite_target_index_token: f('string', '"user:token" allowed to push to target_index', SECRET),
    distribution_scope: INDEX_SHARED.distribution_scope as FieldSpec,
    build_tags: INDEX_SHARED.build_tags as FieldSpec,
    graph_update_mode: GRAPH_MODE,
    ignore_bundle_ocp_version: f('boolean', 'Merge bundles whatever their OCP version'),
  },
};

export const CREATE_EMPTY_INDEX: EndpointSchema = {
  path: '/builds/create-empty-index',
  summary: 'Create an index image with no operators',
  required: ['from_index'],
  fields: {
    from_index: FROM_INDEX,
    binary_image: INDEX_SHARED.binary_image as FieldSpec,
    labels: f('stringMap', 'Labels to set on the index image', {
      limits: { maxItems: LIMITS.labels, maxLength: LIMITS.stringLength },
    }),
    output_fbc: INDEX_SHARED.output_fbc as FieldSpec,
    distribution_scope: INDEX_SHARED.distribution_scope as FieldSpec,
  },
};

export const RECURSIVE_RELATED_BUNDLES: EndpointSchema = {
  path: '/builds/recursive-related-bundles',
  summary: 'Find the nested related bundles of a bundle',
  required: ['parent_bundle_image'],
  fields: {
    parent_bundle_image: f('pullspec', 'The bundle image to start from'),
    organization: ORGANIZATION,
    registry_auths: REGISTRY_AUTHS,
  },
};

export const FBC_OPERATIONS: EndpointSchema = {
  path: '/builds/fbc-operations',
  summary: 'Apply file-based catalog fragments to an index image',
  required: ['from_index'],
  fields: {
    fbc_fragments: f(
      'pullspec[]',
      'FBC fragment images (or the legacy fbc_fragment)',
      items(LIMITS.fbcFragments),
    ),
    fbc_fragment: f('pullspec', 'Legacy single fragment; answered with the legacy keys', {
      deprecated: true,
    }),
    from_index: FROM_INDEX,
    add_arches: INDEX_SHARED.add_arches as FieldSpec,
    binary_image: INDEX_SHARED.binary_image as FieldSpec,
    distribution_scope: INDEX_SHARED.distribution_scope as FieldSpec,
    build_tags: INDEX_SHARED.build_tags as FieldSpec,
    overwrite_from_index: INDEX_SHARED.overwrite_from_index as FieldSpec,
    overwrite_from_index_token: INDEX_SHARED.overwrite_from_index_token as FieldSpec,
  },
};

export const ADD_DEPRECATIONS: EndpointSchema = {
  path: '/builds/add-deprecations',
  summary: 'Add an OLM deprecation schema for a package',
  required: ['operator_package', 'deprecation_schema', 'from_index'],
  fields: {
    operator_package: f('string', 'The package the deprecations are for', NAME),
    deprecation_schema: f('jsonString', 'The olm.deprecations blob, as a JSON string'),
    from_index: FROM_INDEX,
    ...INDEX_SHARED,
  },
};

export const SINGLE_ENDPOINTS: EndpointSchema[] = [
  ADD,
  RM,
  REGENERATE_BUNDLE,
  MERGE_INDEX_IMAGE,
  CREATE_EMPTY_INDEX,
  RECURSIVE_RELATED_BUNDLES,
  FBC_OPERATIONS,
  ADD_DEPRECATIONS,
];

/** Keys a validator accepts: every declared field of its endpoint. */
export function allowedKeys(schema: EndpointSchema): string[] {
  return Object.keys(schema.fields);
}

export function optionalKeys(schema: EndpointSchema): string[] {
  return allowedKeys(schema).filter((k) => !schema.required.includes(k));
}

/** Limits every value of a type has unless its field says otherwise. */
const TYPE_LIMITS: Record<FieldType, FieldLimits> = {
  pullspec: { kind: 'string', maxLength: LIMITS.pullSpecLength },
  string: { kind: 'string', maxLength: LIMITS.stringLength },
  boolean: {},
  'string[]': { kind: 'list', maxLength: LIMITS.nameLength },
  'pullspec[]': { kind: 'list', maxLength: LIMITS.pullSpecLength },
  stringMap: { kind: 'map', maxLength: LIMITS.stringLength },
  object: { kind: 'map' },
  // Its limits (LIMITS.registryAuths, LIMITS.secretLength) apply one level down, in validateRegistryAuths.
  registryAuths: {},
  // Bounded by the body size: a deprecation schema lists every deprecated bundle of a package.
  jsonString: {},
};

export function fieldLimits(spec: FieldSpec): FieldLimits {
  return { ...TYPE_LIMITS[spec.type], ...spec.limits };
}

/** The limits of every field of an endpoint, keyed like its body. */
export function endpointLimits(schema: EndpointSchema): Record<string, FieldLimits> {
  return Object.fromEntries(Object.entries(schema.fields).map(([k, spec]) => [k, fieldLimits(spec)]));
}

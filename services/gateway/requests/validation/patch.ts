import type { RequestType } from '../../../../shared/contracts';
import { STATES } from '../../../../shared/contracts';
import { ValidationError } from '../../../../shared/errors';
import { isObject, validateArches } from './common';

const BASE = ['arches', 'state', 'state_reason'];
const INDEX_IMAGE = [
  'binary_image',
  'binary_image_resolved',
  'distribution_scope',
  'from_bundle_image_resolved',
  'from_index_resolved',
  'index_image',
  'index_image_resolved',
  'internal_index_image_copy',
  'internal_index_image_copy_resolved',
];

/** IIB's get_mutable_keys per request type. */
export const MUTABLE_KEYS: Record<RequestType, string[]> = {
  add: [...BASE, ...INDEX_IMAGE, 'bundles', 'bundle_mapping', 'omps_operator_version'],
  rm: [...BASE, ...INDEX_IMAGE],
  'regenerate-bundle': [...BASE, 'bundle_image', 'from_bundle_image_resolved', 'bundle_replacements'],
  'merge-index-image': [
    ...BASE,
    'binary_image',
    'binary_image_resolved',
    'distribution_scope',
    'index_image',
    'source_from_index_resolved',
    'target_index_resolved',
  ],
  'create-empty-index': [
    ...BASE,
    ...INDEX_IMAGE.filter(
      (k) =>
        ![
          'from_bundle_image_resolved',
          'internal_index_image_copy',
          'internal_index_image_copy_resolved',
        ].includes(k),
    ),
  ],
  'recursive-related-bundles': [...BASE, 'parent_bundle_image_resolved'],
  'fbc-operations': [
    ...BASE,
    ...INDEX_IMAGE,
    'fbc_fragments',
    'fbc_fragments_resolved',
    'fbc_fragment',
    'fbc_fragment_resolved',
  ],
  'add-deprecations': [...BASE, ...INDEX_IMAGE],
};

function stringListOf(value: unknown, msg: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new ValidationError(msg);
  return value as string[];
}

/** IIB's patch_request checks, in its order. */
export function validatePatch(type: RequestType, id: number, payload: unknown): Record<string, unknown> {
  if (!isObject(payload)) throw new ValidationError('The input data must be a JSON object');
  if (Object.keys(payload).length === 0) {
    throw new ValidationError('At least one key must be specified to update the request');
  }
  const mutable = MUTABLE_KEYS[type];
  const invalid = Object.keys(payload).filter((k) => !mutable.includes(k));
  if (invalid.length > 0)
    throw new ValidationError(`The following keys are not allowed: ${invalid.join(', ')}`);
  for (const [key, value] of Object.entries(payload)) {
    if (key === 'arches') validateArches(value);
    else if (key === 'bundle_mapping') {
      const msg = `The "${key}" key must be an object with the values as lists of strings`;
      if (!isObject(value)) throw new ValidationError(msg);
      Object.values(value).forEach((v) => stringListOf(v, msg));
    } else if (key === 'fbc_fragments_resolved' || key === 'bundles' || key === 'fbc_fragments') {
      stringListOf(value, `The value for "${key}" must be a list of non-empty strings`);
    } else if (key === 'bundle_replacements') {
      const msg = `The "${key}" key must be a dictionary object mapping from strings to strings`;
      if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
        throw new ValidationError(msg);
      }
    } else if (!value || typeof value !== 'string') {
      throw new ValidationError(`The value for "${key}" must be a non-empty string`);
    }
  }
  if ('state' in payload && !('state_reason' in payload)) {
    throw new ValidationError('The "state_reason" key is required when "state" is supplied');
  }
  if ('state_reason' in payload && !('state' in payload)) {
    throw new ValidationError('The "state" key is required when "state_reason" is supplied');
  }
  if ('state' in payload && !(STATES as readonly string[]).includes(payload.state as string)) {
    throw new ValidationError(
      `${String(payload.state)} is not a valid build request state. Valid states are: ${STATES.join(', ')}`,
    );
  }
  if ('omps_operator_version' in payload) {
    try {
      payload.omps_operator_version = JSON.parse(payload.omps_operator_version as string) as unknown;
    } catch {
      throw new ValidationError(
        `The value for "omps_operator_version" of request ${id} must be a JSON string`,
      );
    }
  }
  return payload;
}

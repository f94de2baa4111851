import { ValidationError } from '../../../shared/errors';
import type { NewRequest } from '../store';
import {
  dropEmpty,
  Params,
  requireObject,
  validateBool,
  validateDistributionScope,
  validatePullSpec,
  validateRequestParams,
  validateStringMap,
} from './common';

export interface ValidationContext {
  user: string | null;
  binaryImageConfigured: boolean;
}

const REJECTED = ['add_arches', 'overwrite_from_index', 'overwrite_from_index_token', 'build_tags'];

/** POST /builds/create-empty-index, as IIB's RequestCreateEmptyIndex.from_json. */
export function validateCreateEmptyIndex(body: unknown, ctx: ValidationContext): NewRequest {
  const raw = requireObject(body);
  for (const arg of REJECTED) {
    if (arg in raw) throw new ValidationError(`The "${arg}" arg is invalid for the create-empty-index endpoint.`);
  }
  validateRequestParams(raw, ['from_index'], ['binary_image', 'labels', 'output_fbc', 'distribution_scope']);
  const p: Params = dropEmpty(raw);
  const params: Params = { from_index: validatePullSpec(p.from_index, 'from_index') };
  if (p.binary_image !== undefined) params.binary_image = validatePullSpec(p.binary_image, 'binary_image');
  else if (!ctx.binaryImageConfigured) throw new ValidationError('The "binary_image" value must be a non-empty string');
  if (p.labels !== undefined) params.labels = validateStringMap(p.labels, 'labels');
  if (p.output_fbc !== undefined) params.output_fbc = validateBool(p.output_fbc, 'output_fbc');
  if (p.distribution_scope !== undefined) params.distribution_scope = validateDistributionScope(p.distribution_scope);
  return { type: 'create-empty-index', user: ctx.user, params, fromIndex: params.from_index as string };
}

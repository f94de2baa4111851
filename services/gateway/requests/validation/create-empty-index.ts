import { ValidationError } from '../../../../shared/errors';
import { isObject, requireBody, ValidatedRequest, validateStringMap, ValidationContext } from './common';
import { validateIndexCommon } from './index-image';
import { CREATE_EMPTY_INDEX, optionalKeys } from './schemas';

const REJECTED = ['add_arches', 'overwrite_from_index', 'overwrite_from_index_token', 'build_tags'];

/** POST /builds/create-empty-index, as IIB's RequestCreateEmptyIndex.from_json. */
export function validateCreateEmptyIndex(body: unknown, ctx: ValidationContext): ValidatedRequest {
  const p = requireBody(body, CREATE_EMPTY_INDEX);
  if (p.from_index === undefined || p.from_index === null) {
    throw new ValidationError('"from_index" must be a specified');
  }
  if (typeof p.from_index !== 'string' || p.from_index.length === 0) {
    throw new ValidationError('"from_index" must be a non-empty string');
  }
  if (p.output_fbc && typeof p.output_fbc !== 'boolean')
    throw new ValidationError('"output_fbc" should be boolean');
  if (p.labels !== undefined && p.labels !== null) validateStringMap(p.labels, 'labels');
  for (const arg of REJECTED) {
    if (arg in p)
      throw new ValidationError(`The "${arg}" arg is invalid for the create-empty-index endpoint.`);
  }
  const common = validateIndexCommon(p, CREATE_EMPTY_INDEX.required, optionalKeys(CREATE_EMPTY_INDEX), ctx);
  const params = { ...common.params };
  delete params.build_tags;
  delete params.overwrite_from_index;
  if (isObject(p.labels)) params.labels = p.labels;
  return { type: 'create-empty-index', user: ctx.user, params, fromIndex: common.fromIndex };
}

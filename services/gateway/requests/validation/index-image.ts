import { ForbiddenError, ValidationError } from '../../../../shared/errors';
import {
  checkPullSpec,
  defined,
  listMessage,
  Params,
  RequestSecrets,
  stringList,
  truthy,
  unique,
  validateArches,
  validateBinaryImage,
  validateDistributionScope,
  validateRequestParams,
  ValidationContext,
} from './common';

/** The request-agnostic part of an index image request, after IIB's `_from_json`. */
export interface IndexCommon {
  params: Params;
  secrets?: RequestSecrets;
  fromIndex: string | null;
}

/**
 * IIB's `RequestIndexImageMixin._from_json`, in its order, for add, rm,
 * create-empty-index, fbc-operations and add-deprecations. `p` is validated
 * in place (empty optional values are dropped).
 */
export function validateIndexCommon(
  p: Params,
  required: string[],
  optional: string[],
  ctx: ValidationContext,
): IndexCommon {
  validateRequestParams(p, required, optional);
  if (!truthy(p.from_index) && !truthy(p.add_arches)) {
    throw new ValidationError('One of "from_index" or "add_arches" must be specified');
  }
  const overwrite = p.overwrite_from_index ?? false;
  if (typeof overwrite !== 'boolean') {
    throw new ValidationError('The "overwrite_from_index" parameter must be a boolean');
  }
  const token = p.overwrite_from_index_token;
  if (truthy(token)) {
    if (typeof token !== 'string') {
      throw new ValidationError('The "overwrite_from_index_token" parameter must be a string');
    }
    if (!overwrite) {
      throw new ValidationError(
        'The "overwrite_from_index" parameter is required when the "overwrite_from_index_token" parameter is used',
      );
    }
  }
  const scope = truthy(p.distribution_scope) ? validateDistributionScope(p.distribution_scope) : undefined;
  const deprecationList = truthy(p.deprecation_list)
    ? unique(stringList(p.deprecation_list, listMessage('deprecation_list')))
    : undefined;
  // With authentication on, an overwrite needs the caller's own token.
  if (ctx.authEnabled && overwrite && !truthy(token)) {
    throw new ForbiddenError('You must set "overwrite_from_index_token" to use "overwrite_from_index"');
  }
  if (truthy(p.output_fbc) && typeof p.output_fbc !== 'boolean') {
    throw new ValidationError('"output_fbc" should be boolean');
  }
  const addArches = 'add_arches' in p ? validateArches(p.add_arches) : [];
  const binaryImage = validateBinaryImage(p.binary_image, ctx);
  let fromIndex: string | null = null;
  if ('from_index' in p) {
    if (typeof p.from_index !== 'string') throw new ValidationError('"from_index" must be a string');
    fromIndex = checkPullSpec(p.from_index);
  }
  const buildTags = stringList(p.build_tags, listMessage('build_tags'));
  for (const image of deprecationList ?? []) checkPullSpec(image);
  const params = defined({
    from_index: fromIndex ?? undefined,
    binary_image: binaryImage,
    add_arches: addArches.length > 0 ? addArches : undefined,
    overwrite_from_index: overwrite,
    distribution_scope: scope,
    deprecation_list: deprecationList,
    build_tags: buildTags,
    output_fbc: typeof p.output_fbc === 'boolean' ? p.output_fbc : undefined,
  });
  const secrets = truthy(token) ? { overwrite_from_index_token: token as string } : undefined;
  return { params, secrets, fromIndex };
}

import { ValidationError } from '../../../../shared/errors';
import {
  checkPullSpec,
  defined,
  listMessage,
  requireBody,
  stringList,
  truthy,
  ValidatedRequest,
  validateBinaryImage,
  validateDistributionScope,
  validateGraphMode,
  ValidationContext,
} from './common';
import { allowedKeys, MERGE_INDEX_IMAGE } from './schemas';

/**
 * POST /builds/merge-index-image, as IIB's RequestMergeIndexImage.from_json.
 * IIB has no key check here (an unknown key fails later with a 500); this
 * rejects unknown keys with IIB's usual message instead.
 */
export function validateMergeIndexImage(body: unknown, ctx: ValidationContext): ValidatedRequest {
  const p = requireBody(body, MERGE_INDEX_IMAGE);
  const allowed = allowedKeys(MERGE_INDEX_IMAGE);
  const invalid = Object.keys(p).filter((k) => !allowed.includes(k));
  if (invalid.length > 0)
    throw new ValidationError(`The following parameters are invalid: ${invalid.join(', ')}`);
  const deprecationList = stringList(
    p.deprecation_list ?? [],
    'The "deprecation_list" value should be an empty array or an array of strings',
  ).map(checkPullSpec);
  const source = p.source_from_index;
  if (!(typeof source === 'string' && source)) {
    throw new ValidationError('The "source_from_index" value must be a string');
  }
  checkPullSpec(source);
  validateGraphMode(p.graph_update_mode, p.target_index, ctx);
  let target: string | undefined;
  if (truthy(p.target_index)) {
    if (typeof p.target_index !== 'string')
      throw new ValidationError('The "target_index" value must be a string');
    target = checkPullSpec(p.target_index);
  }
  const overwrite = p.overwrite_target_index ?? false;
  if (typeof overwrite !== 'boolean') {
    throw new ValidationError('The "overwrite_target_index" value must be a boolean');
  }
  const token = p.overwrite_target_index_token;
  if (truthy(token)) {
    if (typeof token !== 'string') {
      throw new ValidationError('The "overwrite_target_index_token" value must be a string');
    }
    if (!overwrite) {
      throw new ValidationError(
        'The "overwrite_target_index" value is required when the "overwrite_target_index_token" value is used',
      );
    }
  } else if (overwrite) {
    throw new ValidationError(
      'The "overwrite_target_index_token" value is required when the "overwrite_target_index" value is set',
    );
  }
  const binaryImage = validateBinaryImage(p.binary_image, ctx);
  const scope = truthy(p.distribution_scope) ? validateDistributionScope(p.distribution_scope) : undefined;
  const buildTags = stringList(p.build_tags, listMessage('build_tags'));
  const ignore = p.ignore_bundle_ocp_version;
  if (ignore !== undefined && ignore !== null && typeof ignore !== 'boolean') {
    throw new ValidationError('The "ignore_bundle_ocp_version" value must be a boolean');
  }
  const params = defined({
    source_from_index: source,
    target_index: target,
    deprecation_list: deprecationList.length > 0 ? deprecationList : undefined,
    binary_image: binaryImage,
    overwrite_target_index: overwrite,
    distribution_scope: scope,
    build_tags: buildTags,
    graph_update_mode: truthy(p.graph_update_mode) ? p.graph_update_mode : undefined,
    ignore_bundle_ocp_version: typeof ignore === 'boolean' ? ignore : undefined,
  });
  const secrets = truthy(token) ? { overwrite_target_index_token: token as string } : undefined;
  return { type: 'merge-index-image', user: ctx.user, params, secrets };
}

import { ValidationError } from '../../../../shared/errors';
import {
  checkPullSpec,
  listMessage,
  requireBody,
  stringList,
  ValidatedRequest,
  validateRequestParams,
  ValidationContext,
} from './common';
import { validateIndexCommon } from './index-image';
import { FBC_OPERATIONS } from './schemas';

const OPTIONAL = [
  'add_arches',
  'binary_image',
  'distribution_scope',
  'build_tags',
  'overwrite_from_index',
  'overwrite_from_index_token',
];

/** POST /builds/fbc-operations, as IIB's RequestFbcOperations.from_json. */
export function validateFbcOperations(body: unknown, ctx: ValidationContext): ValidatedRequest {
  const p = requireBody(body, FBC_OPERATIONS);
  const fragment = p.fbc_fragment;
  if (
    fragment !== undefined &&
    fragment !== null &&
    p.fbc_fragments !== undefined &&
    p.fbc_fragments !== null
  ) {
    throw new ValidationError('Cannot provide both "fbc_fragment" and "fbc_fragments" parameters');
  }
  let legacy = false;
  if (typeof fragment === 'string') {
    p.fbc_fragments = [fragment];
    delete p.fbc_fragment;
    legacy = true;
  } else if (fragment !== undefined && fragment !== null) {
    throw new ValidationError('"fbc_fragment" must be a string');
  } else if (p.fbc_fragments === undefined || p.fbc_fragments === null) {
    throw new ValidationError('Either "fbc_fragment" or "fbc_fragments" must be provided');
  }
  const required = ['fbc_fragments', ...FBC_OPERATIONS.required];
  validateRequestParams(p, required, OPTIONAL);
  const fragments = stringList(p.fbc_fragments, listMessage('fbc_fragments'));
  const common = validateIndexCommon(p, required, OPTIONAL, ctx);
  fragments.forEach(checkPullSpec);
  const params: Record<string, unknown> = { ...common.params, fbc_fragments: fragments };
  if (legacy) params.fbc_fragment = fragments[0];
  return {
    type: 'fbc-operations',
    user: ctx.user,
    params,
    secrets: common.secrets,
    fromIndex: common.fromIndex,
  };
}

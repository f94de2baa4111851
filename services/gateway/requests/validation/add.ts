import { ValidationError } from '../../../../shared/errors';
import {
  checkPullSpec,
  defined,
  listMessage,
  requireBody,
  stringList,
  truthy,
  unique,
  ValidatedRequest,
  validateGraphMode,
  ValidationContext,
} from './common';
import { validateIndexCommon } from './index-image';
import { ADD, optionalKeys } from './schemas';

/** POST /builds/add, as IIB's add_bundles + RequestAdd.from_json. */
export function validateAdd(body: unknown, ctx: ValidationContext): ValidatedRequest {
  const p = requireBody(body, ADD);
  // The API removes duplicate bundles, keeping their order.
  if (Array.isArray(p.bundles)) p.bundles = unique(p.bundles as string[]);
  const bundles = stringList(p.bundles, listMessage('bundles'));
  stringList(p.deprecation_list, listMessage('deprecation_list'));
  if (!(truthy(p.bundles) || truthy(p.from_index))) {
    throw new ValidationError('"from_index" must be specified if no bundles are specified');
  }
  if (truthy(p.check_related_images) && !truthy(p.bundles)) {
    throw new ValidationError('"check_related_images" must be specified only when bundles are specified');
  }
  const checkRelated = p.check_related_images ?? false;
  if (typeof checkRelated !== 'boolean') {
    throw new ValidationError('The "check_related_images" parameter must be a boolean');
  }
  for (const key of ['cnr_token', 'graph_update_mode', 'organization']) {
    if (!(key in p)) continue;
    if (typeof p[key] !== 'string') throw new ValidationError(`"${key}" must be a string`);
    if (key === 'graph_update_mode') validateGraphMode(p[key], p.from_index, ctx);
  }
  if (typeof (p.force_backport ?? false) !== 'boolean')
    throw new ValidationError('"force_backport" must be a boolean');
  // Legacy keys: accepted, never stored.
  delete p.cnr_token;
  delete p.force_backport;
  const common = validateIndexCommon(p, ADD.required, optionalKeys(ADD), ctx);
  for (const b of bundles) checkPullSpec(b);
  const params = defined({
    ...common.params,
    bundles: bundles.length > 0 ? bundles : undefined,
    organization: truthy(p.organization) ? p.organization : undefined,
    graph_update_mode: truthy(p.graph_update_mode) ? p.graph_update_mode : undefined,
    check_related_images: typeof p.check_related_images === 'boolean' ? p.check_related_images : undefined,
  });
  return { type: 'add', user: ctx.user, params, secrets: common.secrets, fromIndex: common.fromIndex };
}

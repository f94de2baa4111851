import { ValidationError } from '../../../../shared/errors';
import {
  checkPullSpec,
  defined,
  isObject,
  requireBody,
  truthy,
  ValidatedRequest,
  validateRegistryAuths,
  validateRequestParams,
  ValidationContext,
} from './common';
import { optionalKeys, RECURSIVE_RELATED_BUNDLES, REGENERATE_BUNDLE } from './schemas';

function organization(p: Record<string, unknown>): string | undefined {
  if (truthy(p.organization) && typeof p.organization !== 'string') {
    throw new ValidationError('"organization" must be a string');
  }
  return p.organization as string | undefined;
}

function registryAuths(p: Record<string, unknown>): { registry_auths: Record<string, unknown> } | undefined {
  return truthy(p.registry_auths) ? { registry_auths: validateRegistryAuths(p.registry_auths) } : undefined;
}

/** POST /builds/regenerate-bundle, as IIB's RequestRegenerateBundle.from_json. */
export function validateRegenerateBundle(body: unknown, ctx: ValidationContext): ValidatedRequest {
  const p = requireBody(body, REGENERATE_BUNDLE);
  validateRequestParams(p, REGENERATE_BUNDLE.required, optionalKeys(REGENERATE_BUNDLE));
  const replacements = p.bundle_replacements;
  if (truthy(replacements)) {
    if (!isObject(replacements)) {
      throw new ValidationError('The value of "bundle_replacements" must be a JSON object');
    }
    for (const [k, v] of Object.entries(replacements)) {
      if (typeof v !== 'string') throw new ValidationError(`The key and value of "${k}" must be a string`);
    }
  }
  const org = organization(p);
  if (typeof p.from_bundle_image !== 'string')
    throw new ValidationError('"from_bundle_image" must be a string');
  const secrets = registryAuths(p);
  const params = defined({
    from_bundle_image: checkPullSpec(p.from_bundle_image),
    organization: org,
    bundle_replacements: truthy(replacements) ? replacements : undefined,
  });
  return { type: 'regenerate-bundle', user: ctx.user, params, secrets };
}

/** POST /builds/recursive-related-bundles, as IIB's RequestRecursiveRelatedBundles.from_json. */
export function validateRecursiveRelatedBundles(body: unknown, ctx: ValidationContext): ValidatedRequest {
  const p = requireBody(body, RECURSIVE_RELATED_BUNDLES);
  validateRequestParams(p, RECURSIVE_RELATED_BUNDLES.required, optionalKeys(RECURSIVE_RELATED_BUNDLES));
  const org = organization(p);
  if (typeof p.parent_bundle_image !== 'string') {
    throw new ValidationError('"parent_bundle_image" must be a string');
  }
  const secrets = registryAuths(p);
  const params = defined({ parent_bundle_image: checkPullSpec(p.parent_bundle_image), organization: org });
  return { type: 'recursive-related-bundles', user: ctx.user, params, secrets };
}

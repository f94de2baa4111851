import { ValidationError } from '../../../../shared/errors';
import { requireBody, ValidatedRequest, ValidationContext } from './common';
import { validateIndexCommon } from './index-image';
import { ADD_DEPRECATIONS, optionalKeys } from './schemas';

/** POST /builds/add-deprecations, as IIB's RequestAddDeprecations.from_json. */
export function validateAddDeprecations(body: unknown, ctx: ValidationContext): ValidatedRequest {
  const p = requireBody(body, ADD_DEPRECATIONS);
  const pkg = p.operator_package;
  if (!pkg || typeof pkg !== 'string')
    throw new ValidationError('"operator_package" should be a non-empty string');
  const schema = p.deprecation_schema;
  if (!schema || typeof schema !== 'string') {
    throw new ValidationError('"deprecation_schema" should be a non-empty string');
  }
  try {
    JSON.parse(schema);
  } catch {
    throw new ValidationError('"deprecation_schema" string should be valid JSON');
  }
  const common = validateIndexCommon(p, ADD_DEPRECATIONS.required, optionalKeys(ADD_DEPRECATIONS), ctx);
  const params = { ...common.params, operator_package: pkg, deprecation_schema: schema };
  // IIB's from_index filter does not match add-deprecations requests.
  return { type: 'add-deprecations', user: ctx.user, params, secrets: common.secrets, fromIndex: null };
}

import { ValidationError } from '../../../../shared/errors';
import { requireBody, ValidatedRequest, ValidationContext } from './common';
import { validateIndexCommon } from './index-image';
import { optionalKeys, RM } from './schemas';

/** POST /builds/rm, as IIB's RequestRm.from_json. */
export function validateRm(body: unknown, ctx: ValidationContext): ValidatedRequest {
  const p = requireBody(body, RM);
  const operators = p.operators ?? [];
  if (
    !Array.isArray(operators) ||
    operators.length === 0 ||
    operators.some((o) => typeof o !== 'string' || o === '')
  ) {
    throw new ValidationError('"operators" should be a non-empty array of strings');
  }
  const common = validateIndexCommon(p, RM.required, optionalKeys(RM), ctx);
  return {
    type: 'rm',
    user: ctx.user,
    params: { ...common.params, operators },
    secrets: common.secrets,
    fromIndex: common.fromIndex,
  };
}

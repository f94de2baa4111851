import { AppError, ValidationError } from '../../../../shared/errors';
import { isObject, truthy, ValidatedRequest, ValidationContext } from './common';
import { validateAdd } from './add';
import { LIMITS, tooManyItems, tooManyKeys } from './limits';
import { validateRegenerateBundle } from './bundles';
import { validateRm } from './rm';

export interface ValidatedBatch {
  items: ValidatedRequest[];
  annotations: Record<string, unknown> | null;
}

type ItemValidator = (item: unknown, ctx: ValidationContext) => ValidatedRequest;

/** IIB's Batch.validate_batch_request_params. */
function batchPayload(body: unknown): { requests: unknown[]; annotations: Record<string, unknown> | null } {
  if (!isObject(body) || !Array.isArray(body.build_requests) || body.build_requests.length === 0) {
    throw new ValidationError(
      'The input data must be a JSON object and the "build_requests" value must be a non-empty array',
    );
  }
  if (body.build_requests.length > LIMITS.buildRequests) {
    throw new ValidationError(tooManyItems('build_requests', LIMITS.buildRequests));
  }
  const annotations = body.annotations ?? null;
  if (annotations !== null && !isObject(annotations)) {
    throw new ValidationError('The value of "annotations" must be a JSON object');
  }
  if (annotations !== null && Object.keys(annotations).length > LIMITS.annotationKeys) {
    throw new ValidationError(tooManyKeys('annotations', LIMITS.annotationKeys));
  }
  const invalid = Object.keys(body).filter((k) => k !== 'build_requests' && k !== 'annotations');
  if (invalid.length > 0)
    throw new ValidationError(`The following parameters are invalid: ${invalid.join(', ')}`);
  return { requests: body.build_requests as unknown[], annotations };
}

/** Validates every item; a validation error names the item, as IIB does. */
function validateItems(
  requests: unknown[],
  ctx: ValidationContext,
  validate: ItemValidator,
): ValidatedRequest[] {
  return requests.map((item, index) => {
    try {
      return validate(item, ctx);
    } catch (err) {
      // IIB adds the position to validation errors only; a 403 stays as it is.
      if (err instanceof ValidationError || (err instanceof AppError && err.status === 400)) {
        throw new ValidationError(
          `${err.message.replace(/\.+$/, '')}. This occurred on the build request in index ${index}.`,
        );
      }
      throw err;
    }
  });
}

/** POST /builds/regenerate-bundle-batch. */
export function validateRegenerateBundleBatch(body: unknown, ctx: ValidationContext): ValidatedBatch {
  const { requests, annotations } = batchPayload(body);
  return { items: validateItems(requests, ctx, validateRegenerateBundle), annotations };
}

/** POST /builds/add-rm-batch: an item with `operators` is an rm, one with `bundles` an add. */
export function validateAddRmBatch(body: unknown, ctx: ValidationContext): ValidatedBatch {
  const { requests, annotations } = batchPayload(body);
  const addOrRm: ItemValidator = (item, c) => {
    if (isObject(item) && truthy(item.operators)) return validateRm(item, c);
    if (isObject(item) && truthy(item.bundles)) return validateAdd(item, c);
    throw new ValidationError('Build request is not a valid Add/Rm request.');
  };
  return { items: validateItems(requests, ctx, addOrRm), annotations };
}

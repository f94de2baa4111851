import { ValidationError } from '../../../shared/errors';

export type Params = Record<string, unknown>;

/** IIB's `validate_request_params`: required keys present and set, no unknown keys. */
export function validateRequestParams(params: Params, required: string[], optional: string[]): void {
  const missing = required.filter((k) => !(k in params));
  if (missing.length > 0) {
    throw new ValidationError(`Missing required parameter(s): ${missing.join(', ')}`);
  }
  const allowed = new Set([...required, ...optional]);
  const invalid = Object.keys(params).filter((k) => !allowed.has(k));
  if (invalid.length > 0) {
    throw new ValidationError(`The following parameters are invalid: ${invalid.join(', ')}`);
  }
  for (const k of required) {
    const v = params[k];
    if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) {
      throw new ValidationError(`"${k}" must be set`);
    }
  }
}

export function requireObject(body: unknown): Params {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('The input data must be a JSON object');
  }
  return body as Params;
}

/** IIB drops empty optional values (but keeps booleans). */
export function dropEmpty(params: Params, keep: string[] = []): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) {
    if (keep.includes(k) || typeof v === 'boolean') {
      out[k] = v;
      continue;
    }
    if (v === null || v === undefined || v === '') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

/** A pull spec needs a tag or a digest (or is `scratch`, for binaryless indexes). */
export function validatePullSpec(value: unknown, key: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(`The "${key}" value must be a non-empty string`);
  }
  if (value !== 'scratch' && !value.includes('@') && !value.split('/').pop()?.includes(':')) {
    throw new ValidationError(`Image ${value} should have a tag or a digest specified.`);
  }
  return value;
}

export function validateStringMap(value: unknown, key: string): Record<string, string> {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !Object.entries(value).every(([k, v]) => typeof k === 'string' && typeof v === 'string')
  ) {
    throw new ValidationError(`The value of "${key}" must be a JSON object of strings`);
  }
  return value as Record<string, string>;
}

export function validateBool(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(`The "${key}" parameter must be a boolean`);
  return value;
}

export function validateDistributionScope(value: unknown): string {
  const scope = typeof value === 'string' ? value.toLowerCase() : value;
  if (scope !== 'dev' && scope !== 'stage' && scope !== 'prod') {
    throw new ValidationError('The "distribution_scope" value must be one of: dev, stage, prod');
  }
  return scope;
}

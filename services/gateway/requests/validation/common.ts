import { ForbiddenError, ValidationError } from '../../../../shared/errors';
import type { RequestType } from '../../../../shared/contracts';
import { checkFieldLimits, entryTooLong, LIMITS, tooManyKeys } from './limits';
import { DISTRIBUTION_SCOPES, EndpointSchema, endpointLimits } from './schemas';

export type Params = Record<string, unknown>;

/** What a validator needs to know about the caller and the configuration. */
export interface ValidationContext {
  /** The authenticated user, or null when authentication is off. */
  user: string | null;
  authEnabled: boolean;
  binaryImageConfigured: boolean;
  graphModeOptions: string[];
  graphModeIndexAllowList: string[];
}

/** Secrets of one request: sealed for the builder, never stored or echoed. */
export interface RequestSecrets {
  overwrite_from_index_token?: string;
  overwrite_target_index_token?: string;
  registry_auths?: Record<string, unknown>;
}

/** One validated request, ready for the store. */
export interface ValidatedRequest {
  type: RequestType;
  user: string | null;
  params: Params;
  secrets?: RequestSecrets;
  /** Set for the types IIB's from_index filter matches (add, rm, create-empty-index, fbc-operations). */
  fromIndex?: string | null;
}

export function isObject(v: unknown): v is Params {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Python truthiness, which IIB's checks rely on. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

export function requireObject(body: unknown): Params {
  if (!isObject(body)) throw new ValidationError('The input data must be a JSON object');
  return { ...body };
}

/** A copy of the body of an endpoint, once it is an object within the endpoint's size limits. */
export function requireBody(body: unknown, schema: EndpointSchema): Params {
  const p = requireObject(body);
  checkFieldLimits(p, endpointLimits(schema));
  return p;
}

/**
 * IIB's `validate_request_params`: required keys present, no unknown keys,
 * required keys set; empty optional values (not booleans) are dropped in place.
 */
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
    if (!truthy(params[k])) throw new ValidationError(`"${k}" must be set`);
  }
  for (const k of optional) {
    if (k in params && typeof params[k] !== 'boolean' && !truthy(params[k])) delete params[k];
  }
}

/** IIB's Image.get_or_create check: a tag or a digest, or `scratch` (binaryless). */
export function checkPullSpec(value: string): string {
  if (!value.includes('@') && !value.includes(':') && value !== 'scratch') {
    throw new ValidationError(`Image ${value} should have a tag or a digest specified.`);
  }
  return value;
}

/** `[]` or an array of non-empty strings, else IIB's message for that key. */
export function stringList(value: unknown, message: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((i) => typeof i !== 'string' || i === '')) {
    throw new ValidationError(message);
  }
  return value as string[];
}

export const listMessage = (key: string): string =>
  `"${key}" should be either an empty array or an array of non-empty strings`;

export function unique(items: string[]): string[] {
  return [...new Set(items)];
}

export function validateStringMap(value: unknown, key: string): Record<string, string> {
  if (!isObject(value)) throw new ValidationError(`The value of "${key}" must be a JSON object`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new ValidationError(`The key and value of "${k}" must be a string`);
  }
  return value as Record<string, string>;
}

export function validateDistributionScope(value: unknown): string {
  const scope = typeof value === 'string' ? value.toLowerCase() : '';
  if (!(DISTRIBUTION_SCOPES as readonly string[]).includes(scope)) {
    throw new ValidationError('The "distribution_scope" value must be one of "dev", "stage", or "prod"');
  }
  return scope;
}

export function validateArches(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((a) => typeof a !== 'string' || a === '')) {
    throw new ValidationError('Architectures should be specified as a non-empty array of strings');
  }
  return value as string[];
}

/** IIB's `validate_binary_image` part of `_from_json` (also used by merge-index-image). */
export function validateBinaryImage(value: unknown, ctx: ValidationContext): string | undefined {
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw new ValidationError('The "binary_image" value must be a string');
  }
  if (!value && !ctx.binaryImageConfigured) {
    throw new ValidationError('The "binary_image" value must be a non-empty string');
  }
  return value ? checkPullSpec(value) : undefined;
}

/** IIB's `validate_graph_mode`: 400 for an unknown mode, 403 for an index not allow-listed. */
export function validateGraphMode(mode: unknown, indexImage: unknown, ctx: ValidationContext): void {
  if (!truthy(mode)) return;
  if (typeof mode !== 'string' || !ctx.graphModeOptions.includes(mode)) {
    throw new ValidationError(
      `"graph_update_mode" must be set to one of these: ${pyList(ctx.graphModeOptions)}`,
    );
  }
  const allowed = ctx.graphModeIndexAllowList;
  const image = typeof indexImage === 'string' ? indexImage : null;
  if (image !== null && allowed.includes(image)) return;
  if (image === null || !allowed.includes(image.split(':')[0] ?? '')) {
    throw new ForbiddenError(
      `"graph_update_mode" can only be used on the following index image: ${pyList(allowed)}`,
    );
  }
}

/** How Python prints a list of strings, as IIB's messages embed them. */
export function pyList(items: string[]): string {
  return `[${items.map((i) => `'${i}'`).join(', ')}]`;
}

/** IIB's `validate_registry_auths`. */
export function validateRegistryAuths(value: unknown): Record<string, unknown> {
  if (!isObject(value)) throw new ValidationError('"registry_auths" must be a dict');
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== 'auths') {
    throw new ValidationError('"registry_auths" must contain single key "auths"');
  }
  const auths = value.auths;
  if (!isObject(auths) || Object.keys(auths).length === 0) {
    throw new ValidationError('"registry_auths.auths" must be a non-empty dict');
  }
  if (Object.keys(auths).length > LIMITS.registryAuths) {
    throw new ValidationError(tooManyKeys('registry_auths.auths', LIMITS.registryAuths));
  }
  for (const [reg, entry] of Object.entries(auths)) {
    const ok =
      isObject(entry) && Object.keys(entry).length === 1 && 'auth' in entry && typeof entry.auth === 'string';
    if (!ok) {
      throw new ValidationError(
        `${reg} in registry_auths has auth value in incorrect format. See the API docs for details on the expected format`,
      );
    }
    if (reg.length > LIMITS.secretLength || (entry.auth as string).length > LIMITS.secretLength) {
      throw new ValidationError(entryTooLong('registry_auths.auths', LIMITS.secretLength));
    }
  }
  return value;
}

export function optionalString(value: unknown, message: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ValidationError(message);
  return value;
}

/** Copies the keys whose value is set. */
export function defined(p: Params): Params {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
}

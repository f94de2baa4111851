import { ValidationError } from '../../../../shared/errors';

/**
 * Size limits of request bodies, declared once: the field table in
 * schemas.ts refers to these, the validators enforce them through
 * `checkFieldLimits`, the OpenAPI document publishes them, docs/api.md
 * explains them. IIB has none; without them one request with 10,000
 * build_tags kept a builder busy for half an hour. Each is far above real
 * use (tens of bundles, a handful of tags).
 */
export const LIMITS = {
  /**
   * Characters of a pull spec. A reference is at most a 255-character name
   * (registry included), a 128-character tag and a digest (71 for sha256):
   * 456. 512 also keeps the indexed from_index/index_image columns far below
   * PostgreSQL's btree row limit (2704 bytes) even at 4 UTF-8 bytes a character.
   */
  pullSpecLength: 512,
  /** Characters of a tag: the OCI distribution spec's tag grammar allows 128. */
  tagLength: 128,
  /** Characters of a name (operator, package, architecture, organization, label key). */
  nameLength: 255,
  /** Characters of any other string value (a label value, a graph mode, a legacy token). */
  stringLength: 4096,
  /** Characters of a secret (an overwrite token, a registry auth): robot tokens and JWTs run to a few KiB. */
  secretLength: 16_384,
  bundles: 500,
  deprecationList: 500,
  operators: 500,
  fbcFragments: 100,
  buildTags: 50,
  addArches: 16,
  labels: 100,
  bundleReplacements: 500,
  registryAuths: 50,
  /** Items of one batch: each becomes a request and a build. */
  buildRequests: 200,
  /** Keys of a batch's free-form annotations. */
  annotationKeys: 100,
  /** Nesting of any JSON body or value: real bodies are 4 deep; this stops recursion bombs. */
  depth: 32,
} as const;

export const tooManyItems = (key: string, max: number): string =>
  `"${key}" must not hold more than ${max} items`;
export const tooManyKeys = (key: string, max: number): string =>
  `"${key}" must not hold more than ${max} keys`;
export const tooLong = (key: string, max: number): string =>
  `"${key}" must not be longer than ${max} characters`;
export const itemTooLong = (key: string, max: number): string =>
  `Each item of "${key}" must not be longer than ${max} characters`;
export const entryTooLong = (key: string, max: number): string =>
  `Each key and value of "${key}" must not be longer than ${max} characters`;

/** What a field may hold at most. */
export interface FieldLimits {
  /**
   * The shape the field should have; a value of another shape is left to
   * the validator, which answers with IIB's message for a wrong type.
   */
  kind?: 'string' | 'list' | 'map';
  /** Items of an array, keys of an object. */
  maxItems?: number;
  /** Characters of a string, of each string item of an array, of each key and value of a map. */
  maxLength?: number;
}

/**
 * Rejects a value over its limits, before any other check, so the validators
 * never walk a huge list. A value of the wrong type is left to the
 * validator, which answers with IIB's message for it.
 */
export function checkLimits(key: string, value: unknown, limits: FieldLimits): void {
  const { kind, maxItems, maxLength } = limits;
  const long = (v: unknown): boolean =>
    maxLength !== undefined && typeof v === 'string' && v.length > maxLength;
  switch (kind) {
    case 'string':
      if (long(value)) throw new ValidationError(tooLong(key, maxLength ?? 0));
      break;
    case 'list':
      if (!Array.isArray(value)) break;
      if (maxItems !== undefined && value.length > maxItems)
        throw new ValidationError(tooManyItems(key, maxItems));
      if (value.some(long)) throw new ValidationError(itemTooLong(key, maxLength ?? 0));
      break;
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) break;
      const entries = Object.entries(value);
      if (maxItems !== undefined && entries.length > maxItems)
        throw new ValidationError(tooManyKeys(key, maxItems));
      if (entries.some(([k, v]) => long(k) || long(v)))
        throw new ValidationError(entryTooLong(key, maxLength ?? 0));
      break;
    }
    default:
      break;
  }
}

/** Applies every declared limit of a body's fields; unknown keys are left to the validators. */
export function checkFieldLimits(p: Record<string, unknown>, fields: Record<string, FieldLimits>): void {
  for (const [key, limits] of Object.entries(fields)) {
    if (key in p) checkLimits(key, p[key], limits);
  }
}

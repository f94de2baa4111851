import type { EndpointSchema, FieldType } from '../gateway/requests/validation/schemas';
import { CliError, EXIT } from './io';

/**
 * One API key as a command line flag: `from_index` is `--from-index`. Lists
 * take `--bundles a,b` and a repeatable singular (`--bundle a --bundle b`),
 * maps a repeatable `key=value`.
 */
export interface CliField {
  key: string;
  type: FieldType;
  flag: string;
  singular?: string;
  secret: boolean;
  required: boolean;
  description: string;
}

const SINGULAR: Record<string, string> = {
  bundles: 'bundle',
  operators: 'operator',
  build_tags: 'build-tag',
  add_arches: 'add-arch',
  fbc_fragments: 'fbc-fragment',
  deprecation_list: 'deprecate',
  labels: 'label',
  bundle_replacements: 'bundle-replacement',
};

/** Where a token flag left unset is read from (never from a flag's default, so help never shows it). */
export const TOKEN_ENV = 'IIB_OVERWRITE_TOKEN';

export function isListType(type: FieldType): boolean {
  return type === 'string[]' || type === 'pullspec[]';
}

/** The flags of an endpoint, from the same table the API validates with; legacy keys stay file-only. */
export function cliFields(schema: EndpointSchema): CliField[] {
  return Object.entries(schema.fields)
    .filter(([, spec]) => !spec.deprecated)
    .map(([key, spec]) => ({
      key,
      type: spec.type,
      flag: key.replace(/_/g, '-'),
      singular: SINGULAR[key],
      secret: spec.secret === true,
      required: schema.required.includes(key),
      description: spec.description,
    }));
}

/** commander's attribute name of a flag: `from-index` -> `fromIndex`. */
export function attributeName(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Accumulates `a,b` values of a repeatable list flag. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return [...(previous ?? []), ...items];
}

/** Accumulates `key=value` pairs of a repeatable map flag (the value may hold `=`). */
export function collectPair(
  value: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new CliError(`expected key=value, got "${value}"`, EXIT.usage);
  return { ...(previous ?? {}), [value.slice(0, at)]: value.slice(at + 1) };
}

/** `@path` reads a file, anything else is the value itself (as curl's -d does). */
export function inlineOrFile(value: string, readFile: (path: string) => string): string {
  return value.startsWith('@') ? readFile(value.slice(1)) : value;
}

export interface BodyInputs {
  /** commander's parsed options. */
  opts: Record<string, unknown>;
  /** The parsed --from-file body, if any. */
  fileBody?: Record<string, unknown>;
  env: Record<string, string | undefined>;
  readFile: (path: string) => string;
}

/**
 * The JSON body of a submit: the file's keys, then every flag given (a flag
 * replaces the file's value of its key, lists included), then the overwrite
 * token from the environment when overwriting and no token was given.
 */
export function buildBody(fields: CliField[], inputs: BodyInputs): Record<string, unknown> {
  const body: Record<string, unknown> = { ...(inputs.fileBody ?? {}) };
  for (const field of fields) {
    const value = inputs.opts[attributeName(field.flag)];
    const one = field.singular ? inputs.opts[attributeName(field.singular)] : undefined;
    // The command gives both flags one accumulator (typed order kept); separate values are joined.
    const given = [value, one].filter((v) => v !== undefined);
    const merged = given.length === 2 && given[0] === given[1] ? [given[0]] : given;
    if (isListType(field.type)) {
      if (merged.length > 0) body[field.key] = (merged as string[][]).flat();
    } else if (field.type === 'stringMap') {
      if (merged.length > 0)
        body[field.key] = Object.assign({}, ...(merged as object[])) as Record<string, string>;
    } else if (value === undefined) {
      continue;
    } else if (typeof value !== 'string') {
      body[field.key] = value; // booleans
    } else if (field.type === 'registryAuths' || field.type === 'object') {
      const text = inlineOrFile(value, inputs.readFile);
      try {
        body[field.key] = JSON.parse(text) as unknown;
      } catch {
        throw new CliError(`--${field.flag} must be JSON (or @file holding JSON)`, EXIT.usage);
      }
    } else if (field.type === 'jsonString') {
      body[field.key] = inlineOrFile(value, inputs.readFile);
    } else {
      body[field.key] = value;
    }
  }
  for (const field of fields) {
    // overwrite_from_index_token goes with overwrite_from_index, overwrite_target_index_token with overwrite_target_index.
    const flagKey = field.key.replace(/_token$/, '');
    if (!field.secret || flagKey === field.key || body[field.key] !== undefined) continue;
    const token = inputs.env[TOKEN_ENV];
    if (token && body[flagKey] === true) body[field.key] = token;
  }
  return body;
}

const SECRET_KEY = /(_token$|^registry_auths$)/;

/** The body as it may be shown (--dry-run): secrets replaced, at any depth. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && v !== undefined ? '***' : redact(v)]),
    );
  }
  return value;
}

/** Parses a --from-file body: it must hold one JSON object, as the API requires. */
export function parseBodyFile(path: string, text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`, EXIT.usage);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError(`${path} must hold a JSON object (the request body)`, EXIT.usage);
  }
  return parsed as Record<string, unknown>;
}

import { ValidationError } from '../errors';

/**
 * A documented configuration key. Every key a service reads is declared once
 * with its doc string, so a bad value fails at start with a message naming it.
 */
export interface KeySpec<T> {
  readonly doc: string;
  readonly parse: (raw: string, key: string) => T;
  readonly default?: T;
  /** The key may be absent; the value is then undefined. */
  readonly optional?: boolean;
}

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends ValidationError {}

export function readKey<T>(env: Env, key: string, spec: KeySpec<T>): T {
  const raw = env[key];
  if (raw === undefined || raw === '') {
    if (spec.default === undefined && !spec.optional) {
      throw new ConfigError(`Configuration ${key} is required: ${spec.doc}`);
    }
    return spec.default as T;
  }
  try {
    return spec.parse(raw, key);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`Configuration ${key} is invalid: ${why} (${spec.doc})`);
  }
}

export const str = (doc: string, dflt?: string): KeySpec<string> => ({ doc, parse: (v) => v, default: dflt });

export const optStr = (doc: string): KeySpec<string | undefined> => ({
  doc,
  parse: (v) => v,
  optional: true,
});

export const int = (doc: string, dflt?: number, min = 0): KeySpec<number> => ({
  doc,
  default: dflt,
  parse: (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`expected an integer >= ${min}, got "${v}"`);
    return n;
  },
});

export const bool = (doc: string, dflt: boolean): KeySpec<boolean> => ({
  doc,
  default: dflt,
  parse: (v) => {
    const s = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
    throw new Error(`expected true or false, got "${v}"`);
  },
});

export const list = (doc: string, dflt?: string[]): KeySpec<string[]> => ({
  doc,
  default: dflt,
  parse: (v) => {
    const trimmed = v.trim();
    if (trimmed.startsWith('[')) {
      const parsed: unknown = JSON.parse(trimmed);
      if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
        throw new Error('expected a JSON array of strings');
      }
      return parsed;
    }
    return trimmed
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  },
});

export const json = <T>(doc: string, dflt: T | undefined, check?: (v: unknown) => T): KeySpec<T> => ({
  doc,
  default: dflt,
  optional: dflt === undefined,
  parse: (v) => {
    const parsed: unknown = JSON.parse(v);
    return check ? check(parsed) : (parsed as T);
  },
});

export function oneOf<T extends string>(doc: string, values: readonly T[], dflt?: T): KeySpec<T> {
  return {
    doc,
    default: dflt,
    parse: (v) => {
      if (!(values as readonly string[]).includes(v)) {
        throw new Error(`expected one of ${values.join(', ')}, got "${v}"`);
      }
      return v as T;
    },
  };
}

/** Loads a service's configuration, or prints why it is wrong and exits 2. */
export function loadOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

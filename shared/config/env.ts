import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
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

export const int = (doc: string, dflt?: number, min = 0, max = Number.MAX_SAFE_INTEGER): KeySpec<number> => ({
  doc,
  default: dflt,
  parse: (v) => {
    const n = Number(v.trim());
    if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      throw new Error(`expected an integer ${range}, got "${v}"`);
    }
    return n;
  },
});

/** A TCP port; 0 lets the system pick one. */
export const port = (doc: string, dflt?: number): KeySpec<number> => int(doc, dflt, 0, 65_535);

/** A string that must match `pattern`; `what` says in words what is accepted. */
export const matching = (doc: string, pattern: RegExp, what: string, dflt?: string): KeySpec<string> => ({
  doc,
  default: dflt,
  parse: (v) => {
    if (!pattern.test(v)) throw new Error(`expected ${what}, got "${v}"`);
    return v;
  },
});

/** An absolute or relative URL is not enough: the scheme must be one the reader speaks. */
function checkUrl(v: string, schemes: readonly string[]): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Error(`expected a URL (${schemes.map((s) => `${s}://`).join(', ')}), got "${redactUrl(v)}"`);
  }
  if (!schemes.includes(u.protocol.replace(/:$/, ''))) {
    throw new Error(`expected a ${schemes.map((s) => `${s}://`).join(' or ')} URL, got "${redactUrl(v)}"`);
  }
  if (!u.hostname) throw new Error(`expected a host in the URL, got "${redactUrl(v)}"`);
  return v;
}

/** Never echo a password back into a log or a terminal. */
function redactUrl(v: string): string {
  return v.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

export const url = (doc: string, schemes: readonly string[], dflt?: string): KeySpec<string> => ({
  doc,
  default: dflt,
  parse: (v) => checkUrl(v, schemes),
});

export const optUrl = (doc: string, schemes: readonly string[]): KeySpec<string | undefined> => ({
  doc,
  optional: true,
  parse: (v) => checkUrl(v, schemes),
});

export const urlList = (doc: string, schemes: readonly string[], dflt?: string[]): KeySpec<string[]> => {
  const base = list(doc, dflt);
  return {
    doc,
    default: dflt,
    parse: (v, key) => base.parse(v, key).map((u) => checkUrl(u, schemes)),
  };
};

/** A file the process must be able to read (certificates, users, credentials). */
export const optFile = (doc: string): KeySpec<string | undefined> => ({
  doc,
  optional: true,
  parse: (v) => {
    try {
      accessSync(v, constants.R_OK);
    } catch {
      throw new Error(`expected a readable file, "${v}" is not one`);
    }
    return v;
  },
});

export const optAbsolutePath = (doc: string): KeySpec<string | undefined> => ({
  doc,
  optional: true,
  parse: (v) => {
    if (!path.isAbsolute(v)) throw new Error(`expected an absolute path, got "${v}"`);
    return v;
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

export function list(doc: string, dflt?: string[]): KeySpec<string[]> {
  return {
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
  };
}

/** A list whose items must each be one of `values`. */
export function listOf<T extends string>(doc: string, values: readonly T[], dflt: T[]): KeySpec<T[]> {
  const base = list(doc, dflt);
  return {
    doc,
    default: dflt,
    parse: (v, key) => {
      const items = base.parse(v, key);
      const bad = items.filter((i) => !(values as readonly string[]).includes(i));
      if (bad.length > 0) throw new Error(`unknown ${bad.join(', ')}; accepted: ${values.join(', ')}`);
      return items as T[];
    },
  };
}

export const json = <T>(doc: string, dflt: T | undefined, check?: (v: unknown) => T): KeySpec<T> => ({
  doc,
  default: dflt,
  optional: dflt === undefined,
  parse: (v) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (err) {
      throw new Error(`expected JSON: ${(err as Error).message}`, { cause: err });
    }
    return check ? check(parsed) : (parsed as T);
  },
});

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON shape checks for `json(..., check)`: what the readers of these keys index into. */
export const shapes = {
  /** {key: "string"} */
  stringMap: (v: unknown): Record<string, string> => {
    if (!isObject(v) || !Object.values(v).every((x) => typeof x === 'string')) {
      throw new Error('expected a JSON object of strings, e.g. {"name": "value"}');
    }
    return v as Record<string, string>;
  },
  /** {key: {key: "string"}} */
  stringMapMap: (v: unknown): Record<string, Record<string, string>> => {
    if (
      !isObject(v) ||
      !Object.values(v).every((m) => isObject(m) && Object.values(m).every((x) => typeof x === 'string'))
    ) {
      throw new Error('expected a JSON object of objects of strings, e.g. {"a": {"b": "c"}}');
    }
    return v as Record<string, Record<string, string>>;
  },
  /** {key: [...]} */
  arrayMap: (v: unknown): Record<string, unknown[]> => {
    if (!isObject(v) || !Object.values(v).every((x) => Array.isArray(x))) {
      throw new Error('expected a JSON object of arrays, e.g. {"org": [{"type": "..."}]}');
    }
    return v as Record<string, unknown[]>;
  },
  object: (v: unknown): Record<string, unknown> => {
    if (!isObject(v)) throw new Error('expected a JSON object');
    return v;
  },
};

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

import type { z } from 'zod/v4';
import { ValidationError } from '../errors';

/**
 * Configuration keys, each declared once: its name, what it is for, the zod
 * schema that reads its text, and its default (text, read by the same
 * schema). A service's configuration is a tree of these; its type is
 * inferred from the tree, and reading the tree validates every key, so a bad
 * value fails at start with a message naming the key and what it accepts.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends ValidationError {}

export interface KeyDeclaration<T> {
  /** The environment variable. */
  readonly key: string;
  /** What the key is for; printed with every error about it. */
  readonly doc: string;
  /** Reads the key's text (never empty: an empty value is an unset key). */
  readonly schema: z.ZodType<T>;
  /** The text used when the key is unset, read by `schema` like a set value. */
  readonly default?: string;
  /** The key may be unset without a default: its value is then undefined. */
  readonly optional?: boolean;
}

/** One declared key; `read` gives its value or throws a ConfigError naming it. */
export class Setting<T> {
  constructor(private readonly declaration: KeyDeclaration<T>) {}

  get key(): string {
    return this.declaration.key;
  }

  get doc(): string {
    return this.declaration.doc;
  }

  get default(): string | undefined {
    return this.declaration.default;
  }

  read(env: Env): T {
    const { key, doc, schema } = this.declaration;
    const raw = env[key];
    if (raw === undefined || raw === '') {
      if (this.declaration.default === undefined) {
        if (this.declaration.optional) return undefined as T;
        throw new ConfigError(`Configuration ${key} is required: ${doc}`);
      }
      return parseOrThrow(schema, this.declaration.default, key, doc);
    }
    return parseOrThrow(schema, raw, key, doc);
  }
}

function parseOrThrow<T>(schema: z.ZodType<T>, raw: string, key: string, doc: string): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const why = result.error.issues[0]?.message ?? 'not accepted';
  throw new ConfigError(`Configuration ${key} is invalid: ${why} (${doc})`);
}

/** Declares a key; `optional: true` (and no default) makes its value `T | undefined`. */
export function setting<T>(declaration: KeyDeclaration<T> & { optional: true }): Setting<T | undefined>;
export function setting<T>(declaration: KeyDeclaration<T> & { optional?: false }): Setting<T>;
export function setting<T>(declaration: KeyDeclaration<T>): Setting<T | undefined> {
  return new Setting<T | undefined>(declaration);
}

/** A group of keys, nested as the configuration object is. */
export interface Settings {
  readonly [field: string]: Setting<unknown> | Settings;
}

type SettingValue<S> = S extends Setting<infer T> ? T : never;
/** Whether a field is a key that may be unset without a default. */
type IsOptional<S> = S extends Setting<unknown> ? (undefined extends SettingValue<S> ? true : false) : false;

/** The configuration object a group of keys reads into (a key that may be unset is an optional field). */
export type ValuesOf<S extends Settings> = {
  -readonly [F in keyof S as IsOptional<S[F]> extends true ? never : F]: S[F] extends Setting<infer T>
    ? T
    : S[F] extends Settings
      ? ValuesOf<S[F]>
      : never;
} & {
  -readonly [F in keyof S as IsOptional<S[F]> extends true ? F : never]?: SettingValue<S[F]>;
};

/** Reads every key of `settings` from `env`; the first bad one throws a ConfigError. */
export function readSettings<S extends Settings>(env: Env, settings: S): ValuesOf<S> {
  const out: Record<string, unknown> = {};
  for (const [field, s] of Object.entries(settings)) {
    out[field] = s instanceof Setting ? s.read(env) : readSettings(env, s);
  }
  return out as ValuesOf<S>;
}

/** Every key of a group, for documentation and tests. */
export function settingsOf(settings: Settings): Setting<unknown>[] {
  return Object.values(settings).flatMap((s) => (s instanceof Setting ? [s] : settingsOf(s)));
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

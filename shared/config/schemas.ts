import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod/v4';
import { redactCredentials } from '../logging';

/**
 * zod schemas that read the text of an environment variable. Each refusal
 * says what is accepted and what was given (never a password), so the key's
 * error line is enough to fix it.
 */

/** A value read by `read`, which throws an Error saying what it expected. */
export function textRead<T>(read: (v: string) => T): z.ZodType<T, string> {
  return z.string().transform((v, ctx) => {
    try {
      return read(v);
    } catch (err) {
      ctx.issues.push({ code: 'custom', message: (err as Error).message, input: v });
      return z.NEVER;
    }
  });
}

export const text = (): z.ZodType<string> => z.string();

export function integer(min = 0, max = Number.MAX_SAFE_INTEGER): z.ZodType<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  return z
    .string()
    .refine(
      (v) => {
        const n = Number(v.trim());
        return v.trim() !== '' && Number.isInteger(n) && n >= min && n <= max;
      },
      { error: (iss) => `expected an integer ${range}, got "${String(iss.input)}"` },
    )
    .transform((v) => Number(v.trim()));
}

/** A TCP port; 0 lets the system pick one. */
export const port = (): z.ZodType<number> => integer(0, 65_535);

/** A string that must match `pattern`; `what` says in words what is accepted. */
export const matching = (pattern: RegExp, what: string): z.ZodType<string> =>
  z.string().regex(pattern, { error: (iss) => `expected ${what}, got "${String(iss.input)}"` });

export function oneOf<const T extends readonly [string, ...string[]]>(values: T): z.ZodType<T[number]> {
  return z.enum(values, {
    error: (iss) => `expected one of ${values.join(', ')}, got "${String(iss.input)}"`,
  });
}

export const bool = (): z.ZodType<boolean> =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(
      z.stringbool({
        truthy: ['1', 'true', 'yes', 'on'],
        falsy: ['0', 'false', 'no', 'off'],
        error: (iss) => `expected true or false, got "${String(iss.input)}"`,
      }),
    );

/** An absolute URL whose scheme is one the reader speaks, with a host. */
function checkUrl(v: string, schemes: readonly string[]): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Error(
      `expected a URL (${schemes.map((s) => `${s}://`).join(', ')}), got "${redactCredentials(v)}"`,
    );
  }
  if (!schemes.includes(u.protocol.replace(/:$/, ''))) {
    throw new Error(
      `expected a ${schemes.map((s) => `${s}://`).join(' or ')} URL, got "${redactCredentials(v)}"`,
    );
  }
  if (!u.hostname) throw new Error(`expected a host in the URL, got "${redactCredentials(v)}"`);
  return v;
}

export const url = (schemes: readonly string[]): z.ZodType<string, string> =>
  textRead((v) => checkUrl(v, schemes));

function parseJson(v: string): unknown {
  try {
    return JSON.parse(v) as unknown;
  } catch (err) {
    throw new Error(`expected JSON: ${(err as Error).message}`, { cause: err });
  }
}

const LIST_ITEMS = 'expected a JSON array of strings';

/** `a, b, c` or a JSON array of strings; empty items are dropped. */
export const list = (): z.ZodType<string[]> =>
  textRead((v) => {
    const trimmed = v.trim();
    if (trimmed.startsWith('[')) return parseJson(trimmed);
    return trimmed
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }).pipe(z.array(z.string({ error: LIST_ITEMS }), { error: LIST_ITEMS }));

/** A list whose items are each read by `item`. */
export const listOfItems = <T>(item: z.ZodType<T, string>): z.ZodType<T[]> => list().pipe(z.array(item));

/** A list whose items must each be one of `values`; `unknown` names what the bad ones are. */
export function listOf<const T extends readonly string[]>(
  values: T,
  unknown = (bad: string[]): string => `unknown ${bad.join(', ')}; accepted: ${values.join(', ')}`,
): z.ZodType<T[number][]> {
  return list().pipe(
    textListRead((items) => {
      const bad = items.filter((i) => !values.includes(i));
      if (bad.length > 0) throw new Error(unknown(bad));
      return items;
    }),
  );
}

function textListRead<T>(read: (items: string[]) => T): z.ZodType<T, string[]> {
  return z.array(z.string()).transform((items, ctx) => {
    try {
      return read(items);
    } catch (err) {
      ctx.issues.push({ code: 'custom', message: (err as Error).message, input: items });
      return z.NEVER;
    }
  });
}

export const urlList = (schemes: readonly string[]): z.ZodType<string[]> => listOfItems(url(schemes));

/** A file the process must be able to read (certificates, users, credentials). */
export const readableFile = (): z.ZodType<string> =>
  textRead((v) => {
    try {
      accessSync(v, constants.R_OK);
    } catch {
      throw new Error(`expected a readable file, "${v}" is not one`);
    }
    return v;
  });

export const absolutePath = (): z.ZodType<string> =>
  z.string().refine((v) => path.isAbsolute(v), {
    error: (iss) => `expected an absolute path, got "${String(iss.input)}"`,
  });

/** A JSON value of the shape `shape` checks (what the readers of the key index into). */
export const json = <T>(shape: z.ZodType<T>): z.ZodType<T> => textRead(parseJson).pipe(shape);

const STRING_MAP = 'expected a JSON object of strings, e.g. {"name": "value"}';
const STRING_MAP_MAP = 'expected a JSON object of objects of strings, e.g. {"a": {"b": "c"}}';
const ARRAY_MAP = 'expected a JSON object of arrays, e.g. {"org": [{"type": "..."}]}';

/** JSON shapes for `json(...)`. */
export const shapes = {
  /** {key: "string"} */
  stringMap: (): z.ZodType<Record<string, string>> =>
    z.record(z.string(), z.string({ error: STRING_MAP }), { error: STRING_MAP }),
  /** {key: {key: "string"}} */
  stringMapMap: (): z.ZodType<Record<string, Record<string, string>>> =>
    z.record(
      z.string(),
      z.record(z.string(), z.string({ error: STRING_MAP_MAP }), { error: STRING_MAP_MAP }),
      { error: STRING_MAP_MAP },
    ),
  /** {key: [...]} */
  arrayMap: (): z.ZodType<Record<string, unknown[]>> =>
    z.record(z.string(), z.array(z.unknown(), { error: ARRAY_MAP }), { error: ARRAY_MAP }),
  object: (): z.ZodType<Record<string, unknown>> =>
    z.record(z.string(), z.unknown(), { error: 'expected a JSON object' }),
};

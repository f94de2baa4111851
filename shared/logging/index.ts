import pino, { Logger } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values are secrets wherever they appear in a logged object (compared case-insensitively). */
export const SECRET_KEYS = [
  'overwrite_from_index_token',
  'overwrite_target_index_token',
  'registry_auths',
  'password',
  'token',
  'authorization',
  'cookie',
  'secrets',
] as const;

export const REDACTED = '[REDACTED]';

const SECRET = new Set<string>(SECRET_KEYS);
/** How deep into a logged object secrets are looked for (the top level is depth 0). */
const MAX_DEPTH = 6;

/**
 * Returns `value` itself when it holds no secret key, else a copy in which
 * every secret key's value is `[REDACTED]` (only the objects on the way to a
 * secret are copied; the caller's objects are never changed). A copy keeps
 * the prototype and the non-enumerable properties, so an Error stays an
 * Error for pino's serializer.
 *
 * This replaces pino's `redact` option: its wildcard paths (`*.token`) run a
 * redacting stringifier on every top-level value of every line, which cost
 * more than writing the line; a scan that finds nothing costs a few key
 * lookups.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value) || value instanceof Date) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const r = redactSecrets(item, depth + 1);
      if (r !== item) (out ??= [...value])[i] = r;
    });
    return (out ?? value) as T;
  }
  const source = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(source)) {
    const v = source[key];
    const r = v !== undefined && SECRET.has(key.toLowerCase()) ? REDACTED : redactSecrets(v, depth + 1);
    if (r !== v) {
      out ??= copyOf(source);
      Object.defineProperty(out, key, { value: r, enumerable: true, writable: true, configurable: true });
    }
  }
  return (out ?? value) as T;
}

/**
 * Same prototype, same own properties; accessors become their current value
 * (an Error's `stack` is an accessor bound to the original object on recent V8).
 */
function copyOf(source: Record<string, unknown>): Record<string, unknown> {
  const descriptors = Object.getOwnPropertyDescriptors(source);
  for (const [key, d] of Object.entries(descriptors)) {
    if (d.get || d.set) {
      descriptors[key] = { value: source[key], enumerable: d.enumerable, writable: true, configurable: true };
    }
  }
  return Object.create(Object.getPrototypeOf(source) as object | null, descriptors) as Record<
    string,
    unknown
  >;
}

/**
 * Credentials that can sit inside a text: a URL's password, an HTTP
 * authorization value. Replaced wherever an error's text is logged.
 */
export function redactCredentials(text: string): string {
  return text
    .replace(/\/\/([^:/@\s]*):[^@/\s]*@/g, '//$1:***@')
    .replace(/\b(Bearer|Basic|Negotiate)\s+[A-Za-z0-9._~+/=-]{8,}/g, '$1 ***');
}

/**
 * pino's error serializer (type, message, stack, the causes' messages and
 * stacks, enumerable fields), with credentials removed from the texts: an
 * error is logged as an object, under `err`, so its stack is recorded. A
 * raw HTTP body an error carries (body-parser's) may hold tokens: dropped.
 */
export function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown;
  if (out === err || typeof out !== 'object' || out === null) return out;
  const serialized = out as Record<string, unknown>;
  for (const key of ['message', 'stack']) {
    const v = serialized[key];
    if (typeof v === 'string') serialized[key] = redactCredentials(v);
  }
  if ('body' in serialized) serialized.body = REDACTED;
  return serialized;
}

/** A service's logger; `destination` defaults to stdout. */
export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level,
    base: { service },
    formatters: {
      log: (obj) => redactSecrets(obj),
      bindings: (bindings) => redactSecrets(bindings),
    },
    serializers: { err: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Removes credentials from a URL before it is logged or put on a span. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

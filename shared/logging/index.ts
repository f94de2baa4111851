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

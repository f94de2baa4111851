/**
 * PostgreSQL stores neither NUL characters in text and jsonb nor lone UTF-16
 * surrogates in jsonb. A builder's update may carry both (a tool's stderr, a
 * label copied from an image), and refusing the whole update would lose the
 * state it brings, so the recorder stores a cleaned copy instead: NUL is
 * dropped and a lone surrogate becomes U+FFFD, as a UTF-8 decoder would.
 */
export function textSafe<T>(value: T): T {
  return clean(value) as T;
}

// eslint-disable-next-line no-control-regex
const UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function cleanString(s: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE, (m) => (m === '\u0000' ? '' : '\ufffd'));
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return cleanString(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[cleanString(k)] = clean(v);
    return out;
  }
  return value;
}

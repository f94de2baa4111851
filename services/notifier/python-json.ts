/**
 * `json.dumps(value)` with Python's defaults, which is how IIB writes its
 * message bodies: `", "` and `": "` separators, keys in insertion order, and
 * `ensure_ascii`, so everything outside printable ASCII is a `\uXXXX` escape
 * (characters beyond the BMP as surrogate pairs). Subscribers that compare or
 * hash bodies see the same bytes IIB would have sent.
 *
 * Numbers: JSON carries no int/float distinction, so integers print as
 * Python ints and other numbers as JavaScript prints them (IIB's request
 * JSON has no floats).
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('JSON has no NaN or Infinity');
      return Number.isInteger(value) ? BigInt(value).toString() : JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map((v: unknown) => pythonJsonDumps(v)).join(', ')}]`;
      return `{${Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${quote(k)}: ${pythonJsonDumps(v)}`)
        .join(', ')}}`;
    default:
      throw new TypeError(`cannot serialize a ${typeof value} as JSON`);
  }
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

function quote(s: string): string {
  let out = '"';
  // Iterating UTF-16 code units yields Python's surrogate-pair escapes.
  for (let i = 0; i < s.length; i += 1) {
    const ch = s[i] as string;
    const code = s.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    // Python's ESCAPE_ASCII escapes everything outside ' '..'~' (DEL included).
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

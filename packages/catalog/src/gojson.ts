/**
 * JSON text the way Go's encoding/json (as built into opm v1.26.4) writes it,
 * so rendered catalogs are byte-identical to opm's.
 */

const needsFix = /[\u2028\u2029<>&]|\\[bf]/;

/**
 * Go escapes U+2028/U+2029 always and, unlike JSON.stringify, writes \b and \f
 * as \u0008 and \u000c. With `escapeHTML` it also escapes <, > and &.
 * Safe on whole documents: these characters only occur inside strings.
 */
function goEscapes(json: string, escapeHTML: boolean): string {
  if (!needsFix.test(json)) return json;
  let out = json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  out = out.replace(/(?<!\\)((?:\\\\)*)\\([bf])/g, (_m, slashes: string, c: string) =>
    c === 'b' ? `${slashes}\\u0008` : `${slashes}\\u000c`,
  );
  if (escapeHTML) {
    out = out.replace(/[<>&]/g, (c) => (c === '<' ? '\\u003c' : c === '>' ? '\\u003e' : '\\u0026'));
  }
  return out;
}

function compact(value: unknown, parts: string[]): void {
  if (value === null || value === undefined) {
    parts.push('null');
  } else if (Array.isArray(value)) {
    parts.push('[');
    value.forEach((v, i) => {
      if (i > 0) parts.push(',');
      compact(v, parts);
    });
    parts.push(']');
  } else if (typeof value === 'object') {
    const rec = value as Record<string, unknown>;
    const keys = Object.keys(rec).sort(byteOrder);
    parts.push('{');
    let first = true;
    for (const k of keys) {
      const v = rec[k];
      if (v === undefined) continue;
      if (!first) parts.push(',');
      first = false;
      parts.push(JSON.stringify(k), ':');
      compact(v, parts);
    }
    parts.push('}');
  } else if (typeof value === 'number') {
    parts.push(Number.isFinite(value) ? JSON.stringify(value) : 'null');
  } else if (typeof value === 'bigint') {
    parts.push(value.toString());
  } else {
    parts.push(JSON.stringify(value));
  }
}

/** Go sorts map keys by bytes; for strings of BMP characters that is code-unit order. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `json.Marshal` of a generic value: map keys sorted, HTML characters escaped. */
export function goMarshal(value: unknown): string {
  const parts: string[] = [];
  compact(value, parts);
  return goEscapes(parts.join(''), true);
}

/** `json.Marshal` of a struct whose fields are already in declaration order (HTML escaped). */
export function goMarshalStruct(value: unknown): string {
  return goEscapes(JSON.stringify(value), true);
}

/** Like opm's property builder: struct field order, no HTML escaping, compact. */
export function goMarshalNoEscape(value: unknown): string {
  return goEscapes(JSON.stringify(value), false);
}

/** One blob as opm's `WriteJSON` encoder writes it: 4-space indent, no HTML escaping, newline. */
export function encodeBlob(blob: unknown): string {
  return goEscapes(JSON.stringify(blob, null, 4), false) + '\n';
}

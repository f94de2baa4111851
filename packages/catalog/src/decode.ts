/**
 * Reads YAML or JSON documents the way k8s' YAMLOrJSONDecoder (used by opm)
 * does: a stream starting with `{` is JSON, anything else YAML 1.1 as go-yaml
 * v2 reads it (yes/no/on/off are booleans, timestamps stay strings, duplicate
 * keys keep the last value).
 */
import { parseAllDocuments, type Tags } from 'yaml';
import { inputError } from './errors';

const yamlOptions = {
  version: '1.1' as const,
  uniqueKeys: false,
  merge: true,
  customTags: (tags: Tags): Tags =>
    tags.filter((t) => {
      const tag = t as { tag?: string; format?: string };
      return tag.format !== 'TIME' && tag.tag !== 'tag:yaml.org,2002:timestamp';
    }),
};

export function looksLikeJson(text: string): boolean {
  return /^\s*\{/.test(text);
}

/** Splits a stream of concatenated JSON values and parses each one. */
export function parseJsonStream(text: string, file: string): unknown[] {
  // Fast path: opm and this engine write each blob starting at column 0.
  const chunks = text.split(/\n(?=\{)/);
  if (chunks.length > 1 || text.trimEnd().endsWith('}')) {
    try {
      return chunks.filter((c) => c.trim() !== '').map((c) => JSON.parse(c) as unknown);
    } catch {
      // fall through to the exact scanner, which reports the position
    }
  }
  const out: unknown[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    const start = i;
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (c === 92) i++;
        else if (c === 34) inString = false;
      } else if (c === 34) inString = true;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      } else if (depth === 0 && /\s/.test(text[i]!)) break;
    }
    const chunk = text.slice(start, i);
    try {
      out.push(JSON.parse(chunk));
    } catch (err) {
      const line = text.slice(0, start).split('\n').length;
      throw inputError(
        file,
        `invalid JSON in the document starting at line ${line}: ${(err as Error).message}`,
      );
    }
  }
  return out;
}

export function parseYamlStream(text: string, file: string): unknown[] {
  const docs = parseAllDocuments(text, yamlOptions);
  const out: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const first = doc.errors[0];
    if (first) {
      throw inputError(file, `invalid YAML: ${first.message.split('\n')[0] ?? first.message}`);
    }
    if (doc.contents === null) continue;
    out.push(doc.toJS({ maxAliasCount: -1 }) as unknown);
  }
  return out;
}

/** Every document of a YAML or JSON file. */
export function decodeAll(text: string, file: string): unknown[] {
  return looksLikeJson(text) ? parseJsonStream(text, file) : parseYamlStream(text, file);
}

/** The first document only, as opm reads manifests and metadata files. */
export function decodeFirst(text: string, file: string): unknown {
  if (looksLikeJson(text)) return parseJsonStream(text, file)[0];
  return parseYamlStream(text, file)[0];
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

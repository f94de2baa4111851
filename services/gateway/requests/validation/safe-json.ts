import { ValidationError } from '../../../../shared/errors';

// In a `u` regex a surrogate pair is one code point, so this matches only unpaired halves.
const LONE_SURROGATE = /\p{Cs}/u;
/** Keys are quoted in messages; a hostile key of a megabyte should not be. */
const KEY_SHOWN = 64;

/** Why PostgreSQL would refuse a string, or undefined when it is storable text. */
function textProblem(s: string): string | undefined {
  // PostgreSQL text and jsonb cannot hold U+0000, and jsonb refuses an unpaired \ud800.
  if (s.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(s)) return 'contains invalid Unicode (an unpaired surrogate)';
  return undefined;
}

function segment(path: string, key: string): string {
  const shown = key.length > KEY_SHOWN ? `${key.slice(0, KEY_SHOWN)}...` : key;
  return path === '' ? shown : `${path}.${shown}`;
}

/**
 * The first problem of a parsed JSON value (or query) that no check
 * downstream expects: a NUL or an unpaired surrogate in any string, value or
 * key, at any depth, or nesting deeper than `maxDepth`. Iterative, so a body
 * of 100,000 nested arrays costs 33 steps, not a stack overflow. The message
 * names where the problem is (`"labels.version" contains a NUL character`).
 */
export function unsafeJsonProblem(
  value: unknown,
  maxDepth: number,
  root = 'the input data',
): string | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { path, depth } = top;
    const where = path === '' ? capitalized(root) : `"${path}"`;
    if (typeof top.value === 'string') {
      const problem = textProblem(top.value);
      if (problem) return `${where} ${problem}`;
      continue;
    }
    if (typeof top.value !== 'object' || top.value === null) continue;
    if (depth >= maxDepth) return `${capitalized(root)} must not be nested more than ${maxDepth} levels deep`;
    if (Array.isArray(top.value)) {
      // Pushed in reverse so that the first bad item is the one reported.
      for (let i = top.value.length - 1; i >= 0; i--) {
        stack.push({ value: top.value[i], path: `${path}[${i}]`, depth: depth + 1 });
      }
      continue;
    }
    const entries = Object.entries(top.value as Record<string, unknown>);
    for (const [key] of entries) {
      const problem = textProblem(key);
      if (problem) return `A key of ${path === '' ? root : `"${path}"`} ${problem}`;
    }
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      stack.push({ value: child, path: segment(path, key), depth: depth + 1 });
    }
  }
  return undefined;
}

const capitalized = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Throws IIB's 400 for the first unsafe part of a parsed body or query; `root` names the whole. */
export function assertSafeJson(value: unknown, maxDepth: number, root?: string): void {
  const problem = unsafeJsonProblem(value, maxDepth, root);
  if (problem !== undefined) throw new ValidationError(problem);
}

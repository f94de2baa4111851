import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import * as path from 'node:path';

async function sameTree(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([lstat(a).catch(() => undefined), lstat(b).catch(() => undefined)]);
  if (!sa || !sb) return false;
  if (sa.isSymbolicLink() || sb.isSymbolicLink()) {
    return sa.isSymbolicLink() && sb.isSymbolicLink() && (await readlink(a)) === (await readlink(b));
  }
  if (sa.isDirectory() || sb.isDirectory()) {
    if (!sa.isDirectory() || !sb.isDirectory()) return false;
    const [ea, eb] = await Promise.all([readdir(a), readdir(b)]);
    if (ea.length !== eb.length) return false;
    ea.sort();
    eb.sort();
    if (ea.some((n, i) => n !== eb[i])) return false;
    for (const n of ea) if (!(await sameTree(path.join(a, n), path.join(b, n)))) return false;
    return true;
  }
  if (sa.size !== sb.size) return false;
  if (sa.ino === sb.ino && sa.dev === sb.dev) return true;
  const [ba, bb] = await Promise.all([readFile(a), readFile(b)]);
  return ba.equals(bb);
}

/**
 * Top-level entries of `after` that differ from `before` (added, removed or
 * with any file changed), compared by content. The build trusts this rather
 * than the pipeline's own account alone: the catalog engine rewrites a
 * package it cannot link back (a YAML one, say) even when its blobs did not
 * change, and the image must hold exactly what a full rebuild would.
 */
export async function changedEntries(before: string, after: string): Promise<Set<string>> {
  const [a, b] = await Promise.all([
    readdir(before).catch(() => [] as string[]),
    readdir(after).catch(() => [] as string[]),
  ]);
  const out = new Set<string>();
  for (const name of new Set([...a, ...b])) {
    if (!(await sameTree(path.join(before, name), path.join(after, name)))) out.add(name);
  }
  return out;
}

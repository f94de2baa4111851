/**
 * A directory tree seen as a chroot: every path is resolved component by
 * component inside the root, so no link, `..` or absolute name can reach the
 * host. Node has no openat(2); this is sound because the extractor is the
 * only writer into a fresh directory and works one entry at a time, so what
 * lstat saw is still there when the next call uses it.
 */
import type { Stats } from 'node:fs';
import { lstat, mkdir, readdir, readlink, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../../../shared/errors';
import { shown } from './layer-paths';

/** Linux MAXSYMLINKS: past this many links in one resolution the kernel answers ELOOP. */
export const MAX_LINK_HOPS = 40;
/**
 * lstat calls one resolution may make. Real paths need a few dozen; without
 * a cap, 40 links of 4096-byte `x/../x/..` targets would cost ~80k calls per
 * entry, and a layer holds thousands of entries.
 */
export const MAX_RESOLVE_STEPS = 1024;

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export class RootedTree {
  /**
   * Entry directory names already resolved to existing real directories. An
   * existing chain changes only through remove(), which forgets them all;
   * new directories, files and links never alter one. Saves the lstat walk
   * for every file of a large catalog.
   */
  private readonly dirs = new Map<string, string[]>();

  constructor(private readonly root: string) {}

  /** The host path of resolved in-root components. Never put it in a message. */
  host(parts: readonly string[]): string {
    return path.join(this.root, ...parts);
  }

  /** lstat of resolved components, undefined when nothing is there. */
  async stat(parts: readonly string[]): Promise<Stats | undefined> {
    try {
      return await lstat(this.host(parts));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /**
   * Resolves `parts` (relative to the resolved directory `base`) with chroot
   * semantics: a link's absolute target starts again at the root, `..` stops
   * at the root, and more than MAX_LINK_HOPS links is a loop. The result
   * holds no symbolic link, except the last component when `followLast` is
   * false; components that do not exist yet are kept as named.
   */
  async resolve(
    parts: readonly string[],
    followLast: boolean,
    entryName: string,
    base: readonly string[] = [],
  ): Promise<string[]> {
    const out = [...base];
    const queue = [...parts];
    let hops = 0;
    let steps = 0;
    // How much of `out` exists: below a missing component nothing can, so no lstat is needed there.
    let existing = out.length;
    while (queue.length > 0) {
      const part = queue.shift() as string;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        out.pop();
        existing = Math.min(existing, out.length);
        continue;
      }
      const last = queue.length === 0;
      if (out.length > existing) {
        out.push(part);
        continue;
      }
      steps += 1;
      if (steps > MAX_RESOLVE_STEPS) {
        throw new ValidationError(
          `image layer entry "${shown(entryName)}" goes through more than ${MAX_RESOLVE_STEPS} path components`,
        );
      }
      const st = await this.stat([...out, part]);
      if (st?.isSymbolicLink() && (followLast || !last)) {
        hops += 1;
        if (hops > MAX_LINK_HOPS) {
          throw new ValidationError(
            `image layer entry "${shown(entryName)}" goes through more than ${MAX_LINK_HOPS} links`,
          );
        }
        const target = await readlink(this.host([...out, part]));
        if (target.startsWith('/')) {
          out.length = 0;
          existing = 0;
        }
        queue.unshift(...target.split('/'));
        continue;
      }
      out.push(part);
      if (st !== undefined) existing = out.length;
    }
    return out;
  }

  /**
   * resolve(parts, followLast) continued from the nearest ancestor already
   * resolved by directoryOf, which is what a full walk would do, minus the
   * lstat calls of a deep path.
   */
  async resolveDir(parts: readonly string[], entryName: string, followLast = true): Promise<string[]> {
    // A cached name was resolved with its last link followed: without followLast, stop short of it.
    let from = followLast ? parts.length : parts.length - 1;
    while (from > 0 && !this.dirs.has(parts.slice(0, from).join('/'))) from -= 1;
    const base = from > 0 ? (this.dirs.get(parts.slice(0, from).join('/')) as string[]) : [];
    return this.resolve(parts.slice(from), followLast, entryName, base);
  }

  /**
   * The directory an entry named `parts` lies in: resolved, checked by
   * `allow` (which throws to refuse it) and only then made a chain of real
   * directories.
   */
  async directoryOf(
    parts: readonly string[],
    entryName: string,
    allow: (resolved: readonly string[]) => void,
  ): Promise<string[]> {
    const key = parts.join('/');
    const known = this.dirs.get(key);
    if (known !== undefined) {
      allow(known);
      return known;
    }
    const resolved = await this.resolveDir(parts, entryName);
    allow(resolved);
    await this.ensureDir(resolved, entryName);
    this.dirs.set(key, resolved);
    return resolved;
  }

  /**
   * Makes resolved components a chain of real directories, creating what is
   * missing. A component that exists and is no directory is refused, as tar
   * refuses it (ENOTDIR).
   */
  async ensureDir(parts: readonly string[], entryName: string): Promise<void> {
    for (let i = 1; i <= parts.length; i++) {
      const sub = parts.slice(0, i);
      const st = await this.stat(sub);
      if (st === undefined) {
        await mkdir(this.host(sub), { mode: 0o755 });
      } else if (!st.isDirectory()) {
        throw new ValidationError(
          `image layer entry "${shown(entryName)}" lies below "${shown(sub.join('/'))}", which is not a directory`,
        );
      }
    }
  }

  /** Removes what is at resolved components; a link is removed itself, never what it points to. */
  async remove(parts: readonly string[]): Promise<void> {
    if (parts.length === 0) throw new Error('refusing to remove the extraction root');
    this.dirs.clear();
    await rm(this.host(parts), { recursive: true, force: true });
  }

  /** Names inside a resolved directory, or none when it is not one. */
  async children(parts: readonly string[]): Promise<string[]> {
    const st = await this.stat(parts);
    if (!st?.isDirectory()) return [];
    return readdir(this.host(parts));
  }
}

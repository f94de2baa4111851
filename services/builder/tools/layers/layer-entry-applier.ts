/**
 * Applies the entries of one image layer to a RootedTree, keeping only what
 * lies under the prefix. Every name is resolved inside the root first; what
 * stays on disk (files, directories, links rewritten to relative in-prefix
 * targets) can then be read with ordinary fs calls without leaving the
 * prefix, even after the prefix directory is moved elsewhere.
 */
import { createWriteStream } from 'node:fs';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Header } from 'tar-stream';
import { ValidationError } from '../../../../shared/errors';
import {
  entryParts,
  isSame,
  isWithin,
  nameProblem,
  OPAQUE_WHITEOUT,
  shown,
  WHITEOUT_PREFIX,
} from './layer-paths';
import type { RootedTree } from './rooted-tree';

/** What the limits count across all layers of one extraction. */
export interface ExtractionCounters {
  /** Bytes of the files written. */
  written: number;
  /** Entries kept (files, directories, links). */
  files: number;
}

export interface ApplyLimits {
  maxBytes: number;
  maxFileBytes: number;
  maxFiles: number;
}

/** Permission bits only: setuid, setgid and sticky are dropped; the builder keeps read and write. */
function fileMode(mode: number | undefined): number {
  return ((mode ?? 0o644) & 0o777) | 0o600;
}

/** As fileMode, and the builder can always list and enter the directory (or it could not finish). */
function dirMode(mode: number | undefined): number {
  return ((mode ?? 0o755) & 0o777) | 0o700;
}

/** Files up to this size are written in one call; larger ones are streamed (memory stays bounded). */
const SMALL_FILE_BYTES = 64 * 1024;

/** An entry's data, for small entries only. */
async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads an entry's data to its end without keeping it. */
export function drain(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
    stream.resume();
  });
}

export class LayerEntryApplier {
  /** Resolved paths written by this layer: an opaque whiteout hides only what lower layers wrote. */
  private readonly touched = new Set<string>();
  private readonly prefixName: string;

  constructor(
    private readonly tree: RootedTree,
    private readonly prefix: readonly string[],
    private readonly limits: ApplyLimits,
    private readonly counters: ExtractionCounters,
  ) {
    this.prefixName = prefix.length === 0 ? 'the image root' : `/${prefix.join('/')}`;
  }

  /** Applies one entry; `stream` is consumed to its end (written or drained) before this resolves. */
  async apply(header: Header, stream: Readable): Promise<void> {
    const name = header.name;
    const parts = entryParts(name);
    const base = parts[parts.length - 1];
    if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) {
      await drain(stream);
      await this.whiteout(parts, name);
      return;
    }
    if (!isWithin(parts, this.prefix) || parts.length === 0) {
      await drain(stream);
      return;
    }
    if (isSame(parts, this.prefix) && header.type !== 'directory') {
      // Resolving a link here would make the whole prefix point elsewhere in the image.
      await drain(stream);
      throw new ValidationError(`image layer entry "${shown(name)}" must be a directory`);
    }
    switch (header.type) {
      case 'file':
      case 'contiguous-file':
        return this.file(parts, header, stream);
      case 'directory':
        await drain(stream);
        return this.directory(parts, header);
      case 'symlink':
        await drain(stream);
        return this.symlink(parts, header);
      case 'link':
        await drain(stream);
        return this.hardLink(parts, header);
      default:
        // Devices and FIFOs are never created: a catalog has no use for them and they reach the host's kernel.
        await drain(stream);
    }
  }

  private count(): void {
    this.counters.files += 1;
    if (this.counters.files > this.limits.maxFiles) {
      throw new ValidationError(
        `image layers hold more than ${this.limits.maxFiles} files under ${this.prefixName}`,
      );
    }
  }

  private touch(parts: readonly string[]): void {
    for (let i = 1; i <= parts.length; i++) this.touched.add(parts.slice(0, i).join('/'));
  }

  /**
   * Where an entry lands: its parent resolved inside the root and made a
   * real directory, plus its own name. The place must stay under the prefix.
   */
  private async place(parts: readonly string[], name: string): Promise<string[]> {
    const last = parts[parts.length - 1] as string;
    const parent = await this.tree.directoryOf(parts.slice(0, -1), name, (resolved) => {
      if (!isWithin([...resolved, last], this.prefix)) {
        throw new ValidationError(`image layer entry "${shown(name)}" leads outside ${this.prefixName}`);
      }
    });
    return [...parent, last];
  }

  /** Removes whatever is at `target` so the next create cannot write through an old link or inode. */
  private async clear(target: readonly string[]): Promise<void> {
    if ((await this.tree.stat(target)) !== undefined) await this.tree.remove(target);
  }

  private async file(parts: string[], header: Header, stream: Readable): Promise<void> {
    const name = header.name;
    const size = header.size ?? 0;
    if (size > this.limits.maxFileBytes) {
      throw new ValidationError(
        `image layer entry "${shown(name)}" exceeds ${this.limits.maxFileBytes} bytes`,
      );
    }
    if (this.counters.written + size > this.limits.maxBytes) {
      throw new ValidationError(`image layers exceed the extraction limit of ${this.limits.maxBytes} bytes`);
    }
    this.count();
    this.counters.written += size;
    const target = await this.place(parts, name);
    await this.clear(target);
    // 'wx' is O_CREAT|O_EXCL: it never follows a link put there in between, it fails instead.
    if (size <= SMALL_FILE_BYTES) {
      await writeFile(this.tree.host(target), await collect(stream), {
        flag: 'wx',
        mode: fileMode(header.mode),
      });
      this.touch(target);
      return;
    }
    await pipeline(
      stream,
      createWriteStream(this.tree.host(target), { flags: 'wx', mode: fileMode(header.mode) }),
    );
    this.touch(target);
  }

  private async directory(parts: string[], header: Header): Promise<void> {
    this.count();
    const target = await this.place(parts, header.name);
    const st = await this.tree.stat(target);
    if (!st?.isDirectory()) {
      await this.clear(target);
      await mkdir(this.tree.host(target), { mode: dirMode(header.mode) });
    }
    this.touch(target);
  }

  private linkName(header: Header): string {
    const linkname = header.linkname ?? '';
    const problem = linkname === '' ? 'is empty' : nameProblem(linkname);
    if (problem)
      throw new ValidationError(
        `image layer entry "${shown(header.name)}" is a link whose target ${problem}`,
      );
    return linkname;
  }

  /**
   * A symbolic link, resolved as the image would see it and stored as a
   * relative path from its real parent to that in-prefix target, so that
   * following it on the host (or after the prefix is moved) stays inside.
   */
  private async symlink(parts: string[], header: Header): Promise<void> {
    const name = header.name;
    const linkname = this.linkName(header);
    this.count();
    const target = await this.place(parts, name);
    const parent = target.slice(0, -1);
    const start = linkname.startsWith('/') ? [] : parent;
    const points = await this.tree.resolve(linkname.split('/'), false, name, start);
    if (!isWithin(points, this.prefix)) {
      throw new ValidationError(
        `image layer entry "${shown(name)}" is a link that leads outside ${this.prefixName}`,
      );
    }
    await this.clear(target);
    const relative = path.posix.relative(parent.join('/'), points.join('/')) || '.';
    await symlink(relative, this.tree.host(target));
    this.touch(target);
  }

  /** A hard link: only to a regular file already extracted under the prefix. */
  private async hardLink(parts: string[], header: Header): Promise<void> {
    const name = header.name;
    const linkname = this.linkName(header);
    const named = linkname.split('/').filter((p) => p !== '' && p !== '.');
    if (named.includes('..')) {
      throw new ValidationError(
        `image layer entry "${shown(name)}" is a hard link that escapes the image root`,
      );
    }
    this.count();
    const source = await this.tree.resolveDir(named, name, false);
    const st = isWithin(source, this.prefix) ? await this.tree.stat(source) : undefined;
    if (!st?.isFile()) {
      throw new ValidationError(
        `image layer entry "${shown(name)}" is a hard link to something that is not a file extracted under ${this.prefixName}`,
      );
    }
    const target = await this.place(parts, name);
    if (isSame(source, target)) return;
    await this.clear(target);
    await link(this.tree.host(source), this.tree.host(target));
    this.touch(target);
  }

  /** OCI whiteouts, applied only where they meet the prefix. */
  private async whiteout(parts: string[], name: string): Promise<void> {
    const dir = await this.tree.resolveDir(parts.slice(0, -1), name);
    const base = parts[parts.length - 1] as string;
    if (base === OPAQUE_WHITEOUT) {
      if (isWithin(dir, this.prefix)) await this.clearLower(dir);
      else if (isWithin(this.prefix, dir)) await this.clearLowerOrRemove(this.prefix);
      return;
    }
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..') {
      throw new ValidationError(`image layer entry "${shown(name)}" is not a valid whiteout`);
    }
    const target = [...dir, hidden];
    if (isWithin(target, this.prefix)) await this.tree.remove(target);
    else if (isWithin(this.prefix, target)) await this.tree.remove(this.prefix);
  }

  private async clearLowerOrRemove(parts: readonly string[]): Promise<void> {
    if (this.touched.has(parts.join('/'))) await this.clearLower(parts);
    else if (parts.length > 0) await this.tree.remove(parts);
  }

  /** Removes what lower layers left in a directory, keeping what this layer wrote. */
  private async clearLower(dir: readonly string[]): Promise<void> {
    for (const child of await this.tree.children(dir)) {
      const sub = [...dir, child];
      if (!this.touched.has(sub.join('/'))) await this.tree.remove(sub);
      else if ((await this.tree.stat(sub))?.isDirectory()) await this.clearLower(sub);
    }
  }
}

import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, readFile, readdir, readlink } from 'node:fs/promises';
import * as path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { extract, pack, type Pack } from 'tar-stream';
import { layerReadCounter } from '../tools/layers/layer-extractor';

/** A gzip layer blob written to disk, with the digests a manifest and a config need. */
export interface LayerBlob {
  file: string;
  /** sha256 of the compressed blob (the manifest's layer digest). */
  digest: string;
  /** sha256 of the uncompressed tar (the config's diff_id). */
  diffId: string;
  size: number;
}

class Hasher extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** A top-level /configs entry name we are willing to put in a layer. */
export function isPlainEntryName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

function entry(p: Pack, header: Parameters<Pack['entry']>[0], body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    p.entry({ uid: 0, gid: 0, ...header }, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
  });
}

/** Owner of the serve cache in the image: IIB's `COPY --chown=1001:0 cache ...`. */
export const CACHE_OWNER = { uid: 1001, gid: 0 };

async function addTree(
  p: Pack,
  src: string,
  name: string,
  owner: { uid: number; gid: number } = { uid: 0, gid: 0 },
): Promise<void> {
  const st = await lstat(src);
  const common = { name, mode: st.mode & 0o7777, mtime: st.mtime, ...owner };
  if (st.isSymbolicLink()) {
    await entry(p, { ...common, type: 'symlink', linkname: await readlink(src) });
  } else if (st.isDirectory()) {
    await entry(p, { ...common, type: 'directory' });
    for (const child of (await readdir(src)).sort()) {
      await addTree(p, path.join(src, child), `${name}/${child}`, owner);
    }
  } else if (st.isFile()) {
    // Hard links into the previous catalog (the engine links unchanged files)
    // become plain files: the layer must stand on its own.
    await entry(p, { ...common, type: 'file' }, await readFile(src));
  }
}

async function addChanges(p: Pack, configsDir: string, changed: readonly string[]): Promise<void> {
  const root = await lstat(configsDir);
  await entry(p, { name: 'configs', type: 'directory', mode: root.mode & 0o7777, mtime: root.mtime });
  for (const name of [...changed].sort()) {
    const src = path.join(configsDir, name);
    const st = await lstat(src).catch(() => undefined);
    if (!st) {
      // Removed: hide whatever the lower layers hold under this name.
      await entry(p, { name: `configs/.wh.${name}`, type: 'file', mode: 0o644, mtime: root.mtime });
      continue;
    }
    if (st.isDirectory()) {
      // Replaced: the opaque marker comes right after the directory, before
      // its content, so extractors that apply it on sight keep the new files
      // and overlay stacks hide every file of the old package.
      await entry(p, { name: `configs/${name}`, type: 'directory', mode: st.mode & 0o7777, mtime: st.mtime });
      await entry(p, { name: `configs/${name}/.wh..wh..opq`, type: 'file', mode: 0o644, mtime: st.mtime });
      for (const child of (await readdir(src)).sort()) {
        await addTree(p, path.join(src, child), `configs/${name}/${child}`);
      }
    } else {
      await addTree(p, src, `configs/${name}`);
    }
  }
}

/** The serve cache a layer carries: the local copy and where it goes in the image. */
export interface LayerCache {
  localDir: string;
  /** Absolute path in the image, e.g. /tmp/cache. */
  imageDir: string;
}

/**
 * The whole cache directory, replacing whatever lower layers hold there: the
 * directory, its opaque whiteout, then every file with the mode opm gave it
 * (opm's integrity check covers modes). Parent directories are left out, so
 * an existing /tmp keeps its own mode; runtimes create missing parents.
 */
async function addCache(p: Pack, cache: LayerCache): Promise<void> {
  const name = cache.imageDir.replace(/^\/+|\/+$/g, '');
  const st = await lstat(cache.localDir);
  const dir = { mode: 0o755, mtime: st.mtime, ...CACHE_OWNER };
  await entry(p, { name, type: 'directory', ...dir });
  await entry(p, {
    name: `${name}/.wh..wh..opq`,
    type: 'file',
    mode: 0o644,
    mtime: st.mtime,
    ...CACHE_OWNER,
  });
  for (const child of (await readdir(cache.localDir)).sort()) {
    await addTree(p, path.join(cache.localDir, child), `${name}/${child}`, CACHE_OWNER);
  }
}

/**
 * Writes one gzip layer holding `configs/<name>` for every changed name: the
 * directory as it is now (behind an opaque whiteout), or a whiteout when it
 * is gone; then the serve cache, if any, as a whole. Applied over the from
 * index it gives the `/configs` (and cache) of a full rebuild.
 */
export async function writeChangeLayer(
  configsDir: string,
  changed: readonly string[],
  file: string,
  cache?: LayerCache,
): Promise<LayerBlob> {
  const p = pack();
  const tarHash = new Hasher();
  const gzHash = new Hasher();
  const done = pipeline(p, tarHash, createGzip(), gzHash, createWriteStream(file));
  try {
    await addChanges(p, configsDir, changed);
    if (cache) await addCache(p, cache);
    p.finalize();
  } catch (err) {
    p.destroy(err as Error);
    await done.catch(() => undefined);
    throw err;
  }
  await done;
  return {
    file,
    digest: `sha256:${gzHash.hash.digest('hex')}`,
    diffId: `sha256:${tarHash.hash.digest('hex')}`,
    size: gzHash.bytes,
  };
}

/** What a catalog layer above the binary image holds that a layer route cannot build on. */
export interface CatalogLayerScan {
  /** The first entry outside `configs/` and the cache directory (say opm's hidden database). */
  outside?: string;
  /** The first `configs/` entry whose mode is not the one every build gives (0755 dirs, 0644 files). */
  oddMode?: string;
  /** Some entry lies in the cache directory (an older cache, which the new layer must replace). */
  inCache?: boolean;
}

const strip = (name: string): string => name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');

/**
 * Reads a gzip layer's headers: entries outside `configs/` (and outside
 * `cacheDir` and its parents, when the build carries a cache there), and
 * catalog entries with modes a build of ours would not give them. The serve
 * cache binds modes, so a catalog whose modes differ from the local copy
 * would not match a cache made from it.
 */
export async function scanCatalogLayer(
  layerFile: string,
  maxReadBytes: number,
  cacheDir?: string,
): Promise<CatalogLayerScan> {
  const cache = cacheDir ? strip(cacheDir) : undefined;
  const parents = new Set<string>();
  if (cache) {
    const parts = cache.split('/');
    for (let i = 1; i < parts.length; i += 1) parents.add(parts.slice(0, i).join('/'));
  }
  const ex = extract();
  const scan: CatalogLayerScan = {};
  ex.on('entry', (header, stream, next) => {
    const name = strip(header.name);
    const base = path.posix.basename(name);
    const inCache =
      cache !== undefined && (name === cache || name.startsWith(`${cache}/`) || parents.has(name));
    if (cache !== undefined && (name === cache || name.startsWith(`${cache}/`))) scan.inCache = true;
    if (
      scan.outside === undefined &&
      name !== '' &&
      name !== 'configs' &&
      !name.startsWith('configs/') &&
      !inCache
    ) {
      scan.outside = header.name;
    }
    if (
      scan.oddMode === undefined &&
      (name === 'configs' || name.startsWith('configs/')) &&
      !base.startsWith('.wh.') &&
      ((header.type === 'directory' && (header.mode ?? 0) % 0o10000 !== 0o755) ||
        (header.type === 'file' && (header.mode ?? 0) % 0o10000 !== 0o644))
    ) {
      scan.oddMode = `${header.name} ${((header.mode ?? 0) % 0o10000).toString(8)}`;
    }
    stream.on('end', () => next());
    stream.resume();
  });
  await pipeline(
    createReadStream(layerFile),
    createGunzip(),
    layerReadCounter({ read: 0 }, maxReadBytes),
    ex,
  );
  return scan;
}

/**
 * Gives a catalog tree the modes every build of ours ships (0755 dirs, 0644
 * files), whatever the umask or the tools that wrote it: the serve cache is
 * bound to them, and a full rebuild and a layer must ship the same.
 */
export async function normalizeCatalogModes(dir: string): Promise<void> {
  const st = await lstat(dir);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o7777) !== 0o755) await chmod(dir, 0o755);
    for (const child of await readdir(dir)) await normalizeCatalogModes(path.join(dir, child));
  } else if (st.isFile() && (st.mode & 0o7777) !== 0o644) {
    await chmod(dir, 0o644);
  }
}

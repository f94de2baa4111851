import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import * as path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { extract, pack, type Pack } from 'tar-stream';
import { layerReadCounter } from './layer-extractor';

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

async function addTree(p: Pack, src: string, name: string): Promise<void> {
  const st = await lstat(src);
  const common = { name, mode: st.mode & 0o7777, mtime: st.mtime };
  if (st.isSymbolicLink()) {
    await entry(p, { ...common, type: 'symlink', linkname: await readlink(src) });
  } else if (st.isDirectory()) {
    await entry(p, { ...common, type: 'directory' });
    for (const child of (await readdir(src)).sort()) {
      await addTree(p, path.join(src, child), `${name}/${child}`);
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

/**
 * Writes one gzip layer holding `configs/<name>` for every changed name: the
 * directory as it is now (behind an opaque whiteout), or a whiteout when it
 * is gone. Applied over the from index it gives the `/configs` of a full rebuild.
 */
export async function writeChangeLayer(
  configsDir: string,
  changed: readonly string[],
  file: string,
): Promise<LayerBlob> {
  const p = pack();
  const tarHash = new Hasher();
  const gzHash = new Hasher();
  const done = pipeline(p, tarHash, createGzip(), gzHash, createWriteStream(file));
  try {
    await addChanges(p, configsDir, changed);
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

/**
 * The first entry of a gzip layer that lies outside `configs/` (say opm's
 * cache or hidden database), or undefined when the layer only touches the
 * catalog. Reads headers only.
 */
export async function firstEntryOutsideConfigs(
  layerFile: string,
  maxReadBytes: number,
): Promise<string | undefined> {
  const ex = extract();
  let outside: string | undefined;
  ex.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
    if (outside === undefined && name !== '' && name !== 'configs' && !name.startsWith('configs/')) {
      outside = header.name;
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
  return outside;
}

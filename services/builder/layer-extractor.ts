import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, Header } from 'tar-stream';
import type { Readable } from 'node:stream';
import { ValidationError } from '../../shared/errors';

export interface ExtractLimits {
  /** Bytes written out of all layers together. */
  maxBytes: number;
}

/**
 * Where an entry lands, relative to the image root, or undefined to skip it.
 * Refuses `..` escapes instead of silently clamping them: a layer that tries
 * is hostile or broken, and the user must hear about it.
 */
export function safeEntryPath(name: string): string {
  const cleaned = name.replace(/^(\.\/|\/)+/, '');
  const parts = cleaned.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ValidationError(`image layer entry "${name}" escapes the image root`);
  return parts.join('/');
}

function within(prefix: string, rel: string): boolean {
  return prefix === '' || rel === prefix || rel.startsWith(`${prefix}/`);
}

/**
 * Applies image layers (in order, with OCI whiteouts) to `dest`, keeping only
 * entries under `prefix` (e.g. "configs"). Links must stay inside the root.
 */
export async function extractLayers(
  layerFiles: string[],
  prefix: string,
  dest: string,
  limits: ExtractLimits,
): Promise<void> {
  const want = safeEntryPath(prefix);
  let written = 0;
  for (const file of layerFiles) {
    const ex = extract();
    ex.on('entry', (header: Header, stream, next) => {
      const done = (err?: unknown): void => {
        stream.resume();
        next(err as Error | undefined);
      };
      void handleEntry(header, stream as unknown as Readable)
        .then(() => next())
        .catch(done);
    });
    const handleEntry = async (header: Header, stream: Readable): Promise<void> => {
      const rel = safeEntryPath(header.name);
      const base = path.posix.basename(rel);
      const dir = path.posix.dirname(rel);
      if (base.startsWith('.wh.')) {
        stream.resume();
        if (!within(want, dir === '.' ? '' : dir) && !within(dir, want)) return;
        const target = path.join(dest, dir === '.' ? '' : dir);
        if (base === '.wh..wh..opq') {
          const entries = await readdir(target).catch(() => [] as string[]);
          await Promise.all(entries.map((e) => rm(path.join(target, e), { recursive: true, force: true })));
        } else {
          await rm(path.join(target, base.slice(4)), { recursive: true, force: true });
        }
        return;
      }
      if (!within(want, rel)) {
        stream.resume();
        return;
      }
      const out = path.join(dest, rel);
      await mkdir(path.dirname(out), { recursive: true });
      switch (header.type) {
        case 'directory':
          stream.resume();
          await mkdir(out, { recursive: true });
          return;
        case 'file': {
          written += header.size ?? 0;
          if (written > limits.maxBytes) {
            throw new ValidationError(`image layers exceed the extraction limit of ${limits.maxBytes} bytes`);
          }
          await rm(out, { recursive: true, force: true });
          const fh = await open(out, 'w', 0o644);
          try {
            await pipeline(stream, fh.createWriteStream());
          } finally {
            await fh.close().catch(() => undefined);
          }
          return;
        }
        case 'symlink':
        case 'link': {
          stream.resume();
          const linkname = header.linkname ?? '';
          const resolved =
            header.type === 'link'
              ? safeEntryPath(linkname)
              : linkname.startsWith('/')
                ? safeEntryPath(linkname)
                : safeEntryPath(path.posix.join(path.posix.dirname(rel), linkname));
          if (!within(want, resolved)) {
            throw new ValidationError(`image layer link "${header.name}" points outside ${prefix}`);
          }
          await rm(out, { force: true });
          if (header.type === 'link') {
            await writeFile(out, await readFile(path.join(dest, resolved)));
          } else {
            await symlink(linkname, out);
          }
          return;
        }
        default:
          stream.resume();
      }
    };
    const input = createReadStream(file);
    const gz = await isGzip(file);
    if (gz) await pipeline(input, createGunzip(), ex);
    else await pipeline(input, ex);
  }
  await mkdir(path.join(dest, want), { recursive: true });
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    await fh.read(buf, 0, 2, 0);
    return buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

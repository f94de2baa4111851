/**
 * Image layers built in a test: tar archives (maybe gzip) from a list of
 * entries, including the hostile ones a real tar tool would refuse to write.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export interface LayerEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  body?: string;
  linkname?: string;
  mode?: number;
}

/** The tar archive of `entries`, in order. */
export async function tarOf(entries: readonly LayerEntry[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = { name: e.name, type, linkname: e.linkname, mode: e.mode, devmajor: 1, devminor: 3 };
    if (type === 'file') p.entry(header, e.body ?? '');
    else p.entry(header);
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Writes a layer file (gzip unless told otherwise) into `dir` and returns its path. */
export async function writeLayer(
  dir: string,
  name: string,
  entries: readonly LayerEntry[],
  gzip = true,
): Promise<string> {
  const tar = await tarOf(entries);
  const file = path.join(dir, name);
  await writeFile(file, gzip ? gzipSync(tar) : tar);
  return file;
}

/** A ustar header block, written by hand so a test can declare any size without the data. */
export function ustarHeader(name: string, size: number, typeflag = '0'): Buffer {
  const buf = Buffer.alloc(512);
  buf.write(name, 0, 100, 'utf8');
  buf.write('0000644\0', 100, 'ascii');
  buf.write('0000000\0', 108, 'ascii');
  buf.write('0000000\0', 116, 'ascii');
  buf.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  buf.write('00000000000\0', 136, 'ascii');
  buf.write(typeflag, 156, 'ascii');
  buf.write('ustar\u000000', 257, 'ascii');
  buf.fill(' ', 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return buf;
}

/**
 * A gzip decompression bomb of about 1 MB that inflates to `totalBytes` of
 * zeros: concatenated gzip members (which gunzip reads as one stream), so
 * building it costs one compression of a 64 MiB chunk.
 */
export function zeroBomb(head: Buffer, totalBytes: number): Buffer {
  const chunk = 64 * 1024 * 1024;
  const member = gzipSync(Buffer.alloc(chunk), { level: 9 });
  const parts = [gzipSync(head)];
  for (let left = totalBytes; left > 0; left -= chunk) {
    parts.push(left >= chunk ? member : gzipSync(Buffer.alloc(left)));
  }
  parts.push(gzipSync(Buffer.alloc(1024)));
  return Buffer.concat(parts);
}

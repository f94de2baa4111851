/**
 * Reading files extracted from an image: they are whatever the image's
 * author put there, so a read is capped before the whole file is in memory
 * (a 1 GiB manifest would otherwise end in "Invalid string length").
 */
import { open } from 'node:fs/promises';

/** A bundle manifest or metadata file: real CSVs are a few hundred KB, the largest a few MB. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/**
 * The text of `file`, or the error `refuse` builds when it is larger than
 * `maxBytes` or no regular file (a directory, reached through a link). fs
 * errors (ENOENT...) are thrown as they are: callers decide what a missing
 * file means and must not pass their host path on to a user.
 */
export async function readTextCapped(
  file: string,
  maxBytes: number,
  refuse: (problem: string) => Error,
): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw refuse('is not a regular file');
    if (st.size > maxBytes) throw refuse(`is larger than ${maxBytes} bytes`);
    // Read at most one byte past the cap, in case the file grew since fstat.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let length = 0;
    while (length < buf.length) {
      const { bytesRead } = await fh.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw refuse(`is larger than ${maxBytes} bytes`);
    return buf.subarray(0, length).toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * Applies image layers (tar, maybe gzip) to a work directory, keeping only
 * what lies under a prefix (`configs`, `manifests`, ...). Layers come from
 * whoever pushed the image, so nothing in them may reach the host: every
 * name is resolved inside the root (layer-entry-applier.ts, rooted-tree.ts),
 * and limits bound what one extraction may write, read and hold. Memory stays
 * bounded whatever the layer: entries are streamed to disk, never buffered.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import type { BuilderConfig } from '../../../../shared/config';
import { AppError, DependencyError, errorMessage, ValidationError } from '../../../../shared/errors';
import { LayerEntryApplier, type ExtractionCounters } from './layer-entry-applier';
import { entryParts, shown } from './layer-paths';
import { RootedTree } from './rooted-tree';

export { safeEntryPath } from './layer-paths';

export interface ExtractLimits {
  /** Bytes of files written, all layers together. */
  maxBytes: number;
  /** Uncompressed bytes read from the layers, skipped entries included: bounds decompression bombs. */
  maxReadBytes: number;
  /** Bytes of one extracted file. */
  maxFileBytes: number;
  /** Entries kept under the prefix (files, directories, links). */
  maxFiles: number;
  /** Entries read, skipped ones included. */
  maxEntries: number;
}

export type ExtractConfig = Pick<
  BuilderConfig,
  'maxExtractBytes' | 'maxLayerReadBytes' | 'maxExtractFileBytes' | 'maxExtractFiles' | 'maxLayerEntries'
>;

export function extractLimits(config: ExtractConfig): ExtractLimits {
  return {
    maxBytes: config.maxExtractBytes,
    maxReadBytes: config.maxLayerReadBytes,
    maxFileBytes: config.maxExtractFileBytes,
    maxFiles: config.maxExtractFiles,
    maxEntries: config.maxLayerEntries,
  };
}

interface Counters extends ExtractionCounters {
  read: number;
  entries: number;
}

function readLimitError(maxReadBytes: number): ValidationError {
  return new ValidationError(`image layers exceed ${maxReadBytes} uncompressed bytes`);
}

/** fs errors carry host paths: only the code reaches the message, with the entry's in-image name. */
function entryFailure(err: unknown, name: string): unknown {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EMFILE' || code === 'ENFILE' || code === 'EIO') {
    // The builder's disk or limits, not the image: another attempt (maybe elsewhere) may succeed.
    return new DependencyError(`image layer entry "${shown(name)}" could not be written (${code})`, {
      retryable: true,
      cause: err,
    });
  }
  // The cause (with its host path) is for the builder's log only.
  return new ValidationError(`image layer entry "${shown(name)}" cannot be extracted (${code ?? 'error'})`, {
    cause: err,
  });
}

function layerFailure(err: unknown, index: number): unknown {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new ValidationError(`image layer ${index + 1} is not a valid gzip stream (${code})`);
  }
  if (typeof code === 'string') {
    // The layer file is the builder's own download: its path stays in the log, not the message.
    return new DependencyError(`image layer ${index + 1} cannot be read (${code})`, {
      retryable: false,
      cause: err,
    });
  }
  // tar-stream's messages name no path ("Invalid tar header...", "Header exceeds max size").
  return new ValidationError(`image layer ${index + 1} is not a valid tar archive: ${errorMessage(err)}`);
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

/**
 * Counts the uncompressed bytes handed to a tar parser, padding and skipped
 * entries included: a stream of zero blocks declares no size anywhere, and
 * tar-stream reads on past them, so only this count can stop it.
 */
export function layerReadCounter(counters: { read: number }, maxReadBytes: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      counters.read += chunk.length;
      if (counters.read > maxReadBytes) callback(readLimitError(maxReadBytes));
      else callback(null, chunk);
    },
  });
}

async function applyLayer(
  file: string,
  index: number,
  applier: LayerEntryApplier,
  counters: Counters,
  limits: ExtractLimits,
): Promise<void> {
  const parser = extract();
  parser.on('entry', (header: Header, entry, next) => {
    const stream = entry as unknown as Readable;
    // A refused entry's data is abandoned when the parser is destroyed; its error is the parser's.
    stream.on('error', () => undefined);
    void checkEntry(header, counters, limits)
      .then(() => applier.apply(header, stream))
      .catch((err: unknown) => entryFailure(err, header.name))
      .then(
        (failure) => {
          if (failure === undefined) {
            next();
            return;
          }
          stream.resume();
          next(failure as Error);
        },
        () => undefined,
      );
  });
  try {
    const input = createReadStream(file);
    const counter = layerReadCounter(counters, limits.maxReadBytes);
    if (await isGzip(file)) await pipeline(input, createGunzip(), counter, parser);
    else await pipeline(input, counter, parser);
  } catch (err) {
    throw layerFailure(err, index);
  }
}

/** Limits known from the header alone, checked before any data is read: a bomb fails at once. */
async function checkEntry(header: Header, counters: Counters, limits: ExtractLimits): Promise<void> {
  counters.entries += 1;
  if (counters.entries > limits.maxEntries) {
    throw new ValidationError(`image layers hold more than ${limits.maxEntries} entries`);
  }
  if (counters.read + (header.size ?? 0) > limits.maxReadBytes) throw readLimitError(limits.maxReadBytes);
  return Promise.resolve();
}

/**
 * Applies `layerFiles` in order (with OCI whiteouts) to `dest`, keeping only
 * entries under `prefix` (e.g. "configs"); `<dest>/<prefix>` exists
 * afterwards, maybe empty. Failures are ValidationErrors that name the
 * in-image entry, never a host path.
 */
export async function extractLayers(
  layerFiles: string[],
  prefix: string,
  dest: string,
  limits: ExtractLimits,
): Promise<void> {
  const want = entryParts(prefix);
  await mkdir(dest, { recursive: true });
  const tree = new RootedTree(dest);
  const counters: Counters = { written: 0, files: 0, read: 0, entries: 0 };
  for (const [index, file] of layerFiles.entries()) {
    const applier = new LayerEntryApplier(tree, want, limits, counters);
    await applyLayer(file, index, applier, counters, limits);
  }
  await tree.ensureDir(want, prefix).catch((err: unknown) => {
    throw entryFailure(err, prefix);
  });
}

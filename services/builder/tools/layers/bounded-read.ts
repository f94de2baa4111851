/**
 * Reading files extracted from an image: they are whatever the image's
 * author put there, so a read is capped before the whole file is in memory
 * (a 1 GiB manifest would otherwise end in "Invalid string length").
 */
import { MAX_MANIFEST_BYTES, readTextCapped } from '@iib-ts/catalog';
import { AppError, ValidationError } from '../../../../shared/errors';

// The capped read lives with the catalog engine, which reads bundle files too.
export { MAX_MANIFEST_BYTES, readTextCapped };

/**
 * A bundle's manifest or metadata file, read with readTextCapped; every
 * failure is a ValidationError naming `shownName` (e.g. "manifests/csv.yaml"),
 * never the request's directory.
 */
export async function readBundleFile(file: string, shownName: string): Promise<string> {
  const refuse = (problem: string): Error => new ValidationError(`The bundle file ${shownName} ${problem}`);
  try {
    return await readTextCapped(file, MAX_MANIFEST_BYTES, refuse);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw refuse(`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

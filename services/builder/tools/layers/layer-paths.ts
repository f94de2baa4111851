/**
 * Pure path rules of the layer extractor: how a tar entry name becomes path
 * components inside the image root, and how such a name is shown to a user.
 */
import { ValidationError } from '../../../../shared/errors';

/** Linux PATH_MAX: a longer name could not be opened anyway, so refuse it with a clear reason. */
export const MAX_PATH_BYTES = 4096;
/** Linux NAME_MAX (ext4, xfs, overlayfs): the kernel refuses longer components with ENAMETOOLONG. */
export const MAX_COMPONENT_BYTES = 255;

/**
 * An entry or link name as it may appear in an error message: the in-image
 * name only (never a host path), cut short and without control characters,
 * since it comes from a layer anyone can build.
 */
export function shown(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}...` : clean;
}

/**
 * Why a name must not reach a filesystem call (a NUL byte, a path or a
 * component longer than Linux allows), or undefined when it may.
 */
export function nameProblem(name: string): string | undefined {
  if (name.includes('\u0000')) return 'contains a NUL byte';
  if (Buffer.byteLength(name) > MAX_PATH_BYTES) return `is longer than ${MAX_PATH_BYTES} bytes`;
  if (name.split('/').some((part) => Buffer.byteLength(part) > MAX_COMPONENT_BYTES)) {
    return `has a path component longer than ${MAX_COMPONENT_BYTES} bytes`;
  }
  return undefined;
}

/**
 * The components of an entry name, relative to the image root. Leading `/`
 * and `./` are dropped (tar writers differ; both mean the image root). A `..`
 * component is refused instead of clamped: a layer that holds one is hostile
 * or broken, and the user must hear about it.
 */
export function entryParts(name: string): string[] {
  const problem = nameProblem(name);
  if (problem) throw new ValidationError(`image layer entry "${shown(name)}" ${problem}`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw new ValidationError(`image layer entry "${shown(name)}" escapes the image root`);
  return parts;
}

/** `entryParts` joined again: the normalised in-image name. */
export function safeEntryPath(name: string): string {
  return entryParts(name).join('/');
}

/** Whether `parts` is `prefix` itself or lies below it. */
export function isWithin(parts: readonly string[], prefix: readonly string[]): boolean {
  if (parts.length < prefix.length) return false;
  return prefix.every((p, i) => parts[i] === p);
}

/** Whether `parts` is `prefix` itself. */
export function isSame(parts: readonly string[], other: readonly string[]): boolean {
  return parts.length === other.length && isWithin(parts, other);
}

/** OCI whiteouts: `.wh.<name>` hides `<name>` of lower layers, `.wh..wh..opq` a whole directory. */
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

import type { BuildContext } from '../workspace/build-context';
import type { ResolvedImage } from '../tools/images';

/** IIB's `binary_image: scratch`: a catalog image of `/configs` alone, with no opm and no command. */
export const SCRATCH = 'scratch';

export function isBinaryless(binary: Pick<ResolvedImage, 'ref'>): boolean {
  return binary.ref === SCRATCH;
}

/**
 * The binary image of a build: resolved through the registry, or for
 * `scratch` a stand-in that covers every arch asked for (there is nothing to
 * pull; each arch's image starts empty). Arches the binary image lacks are
 * for the caller to check.
 */
export async function resolveBinary(
  ctx: BuildContext,
  ref: string,
  arches: readonly string[],
): Promise<ResolvedImage> {
  if (ref === SCRATCH) {
    return { ref, resolved: SCRATCH, digest: '', arches: [...arches].sort(), isList: false };
  }
  return ctx.images.resolve(ref);
}

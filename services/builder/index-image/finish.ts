import { ValidationError } from '../../../shared/errors';
import type { ResolvedImage } from '../tools/images';
import { writeOverwriteAuthFile } from '../tools/registry-auth';
import type { BuildContext } from '../workspace/build-context';
import { buildAndPushIndex, type IndexBuildOptions } from './build';
import type { PreparedBuild } from './prepare';

/** The overwrite of `from_index` a request asked for (`overwrite_from_index`), if any. */
export function fromIndexOverwrite(ctx: BuildContext, prepared: PreparedBuild): FinishOptions['overwrite'] {
  const target = ctx.params.from_index;
  if (ctx.params.overwrite_from_index !== true || typeof target !== 'string' || !target) return undefined;
  return { target, resolvedAtStart: prepared.fromIndex, token: ctx.secrets.overwrite_from_index_token };
}

export const FROM_INDEX_CHANGED =
  'The supplied from_index image changed during the IIB request. Please resubmit the request.';

export interface FinishOptions extends IndexBuildOptions {
  /** The final state_reason. */
  reason: string;
  /** Result fields reported with the final state (bundle_mapping, ...). */
  fields?: Record<string, unknown>;
  /** Copy the result onto this image (the from_index or target_index) with `token`. */
  overwrite?: { target: string; resolvedAtStart: ResolvedImage; token: string | undefined };
}

/** `index_image` as users see it: IIB_INDEX_IMAGE_OUTPUT_REGISTRY in place of the push registry. */
export function publicImage(ctx: BuildContext, image: string): string {
  const out = ctx.config.indexImageOutputRegistry;
  return out && image.startsWith(`${ctx.registry}/`)
    ? `${out}/${image.slice(ctx.registry.length + 1)}`
    : image;
}

/**
 * The end of every index request: build and push, optionally overwrite the
 * from index (only if it did not change meanwhile), report `complete`.
 */
export async function finishIndexRequest(
  ctx: BuildContext,
  prepared: PreparedBuild,
  contextDir: string,
  options: FinishOptions,
): Promise<void> {
  const built = await buildAndPushIndex(ctx, prepared, contextDir, options);
  let indexImage = publicImage(ctx, built.index_image);
  let indexImageResolved = publicImage(ctx, built.index_image_resolved);
  if (options.overwrite) {
    const result = await overwriteIndex(ctx, built.index_image, options.overwrite);
    indexImage = result.image;
    indexImageResolved = result.resolved;
  }
  await ctx.reporter.state('complete', options.reason, {
    arches: prepared.arches,
    binary_image: prepared.binary.ref,
    binary_image_resolved: prepared.binary.resolved,
    from_index_resolved: prepared.fromIndex.resolved,
    distribution_scope: prepared.distributionScope,
    ...(options.fields ?? {}),
    index_image: indexImage,
    index_image_resolved: indexImageResolved,
    internal_index_image_copy: publicImage(ctx, built.index_image),
    internal_index_image_copy_resolved: publicImage(ctx, built.index_image_resolved),
  });
}

/**
 * IIB's _overwrite_from_index: re-resolve the target and refuse if it moved
 * since the request resolved it, then `skopeo copy --all` the built list onto
 * it with the caller's token, from an auth file of this request alone.
 */
export async function overwriteIndex(
  ctx: BuildContext,
  built: string,
  overwrite: NonNullable<FinishOptions['overwrite']>,
): Promise<{ image: string; resolved: string }> {
  const authFile = overwrite.token
    ? await writeOverwriteAuthFile(ctx.workDir, ctx.authFile, overwrite.target, overwrite.token)
    : ctx.authFile;
  const images = ctx.images.withAuthFile(authFile);
  const now = await images.resolve(overwrite.target);
  if (now.digest !== overwrite.resolvedAtStart.digest) throw new ValidationError(FROM_INDEX_CHANGED);
  await ctx.reporter.progress(`Overwriting the index image ${overwrite.target} with ${built}`);
  await images.copyAll(built, overwrite.target);
  const after = await images.resolve(overwrite.target);
  return { image: overwrite.target, resolved: after.resolved };
}

import * as path from 'node:path';
import { ValidationError } from '../../../shared/errors';
import type { BuildContext } from '../workspace/build-context';
import {
  adjustOperatorBundle,
  BundleImages,
  COMPLETED,
  customizationsFor,
  imageNameToString,
  loadOperatorCsv,
  readingArch,
} from '../bundles';

export const MAX_RELATED_BUNDLES_EXCEEDED = 'Max number of related bundles exceeded. Potential DOS attack!';

/**
 * recursive-related-bundles (IIB's build_recursive_related_bundles): a
 * breadth-first walk from the parent bundle over the related images that are
 * bundles themselves, with the organization's customizations applied up to
 * `related_bundles` at each step. The list, deepest level first, is stored as
 * the `nested_bundles` artifact.
 */
export async function recursiveRelatedBundles(ctx: BuildContext): Promise<void> {
  const parentRef = ctx.params.parent_bundle_image as string;
  const organization = typeof ctx.params.organization === 'string' ? ctx.params.organization : undefined;
  const bundleImages = new BundleImages(ctx.images, path.join(ctx.workDir, 'layouts'));
  const max = ctx.config.maxRecursiveRelatedBundles;

  await ctx.reporter.progress('Resolving parent_bundle_image');
  const parent = await bundleImages.resolvePullSpec(parentRef);
  await ctx.reporter.progress(`Finding recursive related bundles for the bundle: ${parentRef}`, {
    parent_bundle_image_resolved: parent,
  });

  let visited = 0;
  const childrenOf = async (bundle: string): Promise<string[]> => {
    visited += 1;
    const dest = path.join(ctx.workDir, 'bundles', String(visited));
    const resolved = await bundleImages.resolve(bundle);
    await bundleImages.extractBundle(resolved.resolved, readingArch(resolved.arches), dest);
    const manifestsDir = path.join(dest, 'manifests');
    if (organization) {
      await adjustOperatorBundle(bundleImages, {
        manifestsDir,
        metadataDir: path.join(dest, 'metadata'),
        organization,
        customizations: customizationsFor(ctx.config.organizationCustomizations, organization),
        pinnedByIib: false,
        stopAtRelatedBundles: true,
        log: (line) => ctx.reporter.log(line),
      });
    }
    const csv = await loadOperatorCsv(manifestsDir);
    const children: string[] = [];
    for (const spec of csv.pullSpecs()) {
      const ref = imageNameToString(spec);
      if (await bundleImages.isBundle(ref)) children.push(ref);
    }
    ctx.reporter.log(`Related bundles of ${bundle}: ${children.join(', ') || '(none)'}`);
    return children;
  };

  const all = [parent];
  let level = [parent];
  let total = 0;
  while (level.length > 0) {
    const next: string[] = [];
    for (const bundle of level) {
      const children = await childrenOf(bundle);
      next.push(...children);
      total += children.length;
      if (total >= max) throw new ValidationError(MAX_RELATED_BUNDLES_EXCEEDED);
    }
    all.push(...next);
    level = next;
  }

  await ctx.reporter.progress('Writing recursive related bundles to a file');
  await ctx.reporter.artifacts({ nested_bundles: all.reverse() });
  await ctx.reporter.state('complete', COMPLETED);
}

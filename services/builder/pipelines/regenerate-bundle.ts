import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../../shared/errors';
import type { BuildContext } from '../workspace/build-context';
import {
  adjustOperatorBundle,
  BundleImages,
  COMPLETED,
  customizationsFor,
  LABEL_PINNED,
  readingArch,
  yamlTrue,
} from '../bundles';
import { publicImage } from '../index-image';

function dockerfile(from: string, labels: Record<string, string>): string {
  const lines = [
    `FROM ${from}`,
    'COPY ./manifests /manifests',
    'COPY ./metadata /metadata',
    ...Object.entries(labels).map(([k, v]) => `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * regenerate-bundle (IIB's build_regenerate_bundle): the bundle's manifests
 * with the organization customizations applied (pull specs pinned to
 * digests, relatedImages, bundle_replacements, ...), rebuilt FROM the
 * original bundle for each of its arches and pushed as
 * `<registry>/iib-build:<id>`.
 */
export async function regenerateBundle(ctx: BuildContext): Promise<void> {
  const id = ctx.event.id;
  const fromRef = ctx.params.from_bundle_image as string;
  const organization = typeof ctx.params.organization === 'string' ? ctx.params.organization : undefined;
  const bundleImages = new BundleImages(ctx.images, path.join(ctx.workDir, 'layouts'));

  await ctx.reporter.progress('Resolving from_bundle_image');
  const from = await bundleImages.resolve(fromRef);
  if (from.arches.length === 0) {
    throw new ValidationError(`No arches were found in the resolved from_bundle_image ${from.resolved}`);
  }
  const arch = readingArch(from.arches);
  const pinnedByIib = yamlTrue((await ctx.images.labels(from.resolved, arch))[LABEL_PINNED]);
  await ctx.reporter.progress(
    `Regenerating the bundle image for the following arches: ${from.arches.join(', ')}`,
    { from_bundle_image_resolved: from.resolved, arches: from.arches },
  );

  const contextDir = path.join(ctx.workDir, 'bundle');
  await bundleImages.extractBundle(from.resolved, arch, contextDir);
  const { labels } = await adjustOperatorBundle(bundleImages, {
    manifestsDir: path.join(contextDir, 'manifests'),
    metadataDir: path.join(contextDir, 'metadata'),
    organization,
    customizations: customizationsFor(ctx.config.organizationCustomizations, organization),
    pinnedByIib,
    bundleReplacements: ctx.params.bundle_replacements as Record<string, string> | undefined,
    onRelatedBundles: async (bundles) => {
      ctx.reporter.log(`Related bundles: ${bundles.join(', ') || '(none)'}`);
      await ctx.reporter.artifacts({ related_bundles: bundles });
    },
    log: (line) => ctx.reporter.log(line),
  });

  const dockerfilePath = path.join(ctx.workDir, 'Dockerfile');
  await mkdir(contextDir, { recursive: true });
  await writeFile(dockerfilePath, dockerfile(from.resolved, labels));
  const pushed: string[] = [];
  // Local names are unique per attempt: builders (and test systems) share one image store.
  const unique = randomBytes(4).toString('hex');
  for (const a of from.arches) {
    const local = `iib-build:${id}-${a}-${unique}`;
    ctx.localTags.push(local);
    await ctx.buildah.buildArch({ contextDir, dockerfile: dockerfilePath, tag: local, arch: a });
    const remote = `${ctx.registry}/iib-build:${id}-${a}`;
    await ctx.buildah.push(local, remote);
    pushed.push(remote);
  }
  await ctx.reporter.progress('Creating the manifest list');
  const output = `${ctx.registry}/iib-build:${id}`;
  await ctx.buildah.pushManifestList(`iib-build-${id}-${unique}-list`, pushed, [output]);
  await ctx.reporter.state('complete', COMPLETED, {
    arches: from.arches,
    bundle_image: publicImage(ctx, output),
  });
}

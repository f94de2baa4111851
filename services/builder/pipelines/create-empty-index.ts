import { readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { BuildContext } from '../build-context';
import { buildAndPushIndex, prepareIndexBuild } from '../index-image';

/**
 * create-empty-index: the from index's catalog with every package removed,
 * on the binary image, with the index labels and the user's labels. Only
 * file-based catalogs are built (SQLite indexes need opm), so `output_fbc`
 * is always honoured as true.
 */
export async function createEmptyIndex(ctx: BuildContext): Promise<void> {
  const prepared = await prepareIndexBuild(ctx);
  await ctx.reporter.progress(
    `Building the index image for the following arches: ${prepared.arches.join(', ')}`,
    {
      arches: prepared.arches,
      binary_image: prepared.binary.ref,
      binary_image_resolved: prepared.binary.resolved,
      from_index_resolved: prepared.fromIndex.resolved,
      distribution_scope: prepared.distributionScope,
    },
  );
  const contextDir = path.join(ctx.workDir, 'context');
  const arch = prepared.arches[0] as string;
  await ctx.images.extract(prepared.fromIndex.resolved, arch, prepared.configsPath, ctx.workDir, contextDir);
  const configsDir = path.join(contextDir, prepared.configsPath.replace(/^\/+/, ''));
  const packages = (await readdir(configsDir)).sort();
  ctx.reporter.log(`Removing all the operators from the index image: ${packages.join(', ') || '(none)'}`);
  await Promise.all(packages.map((p) => rm(path.join(configsDir, p), { recursive: true, force: true })));
  const labels = (ctx.params.labels as Record<string, string> | undefined) ?? {};
  const out = await buildAndPushIndex(ctx, prepared, contextDir, labels);
  await ctx.reporter.state('complete', 'The empty index image was successfully created', out);
}

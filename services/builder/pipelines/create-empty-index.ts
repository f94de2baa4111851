import { rm } from 'node:fs/promises';
import type { BuildContext } from '../workspace/build-context';
import { finishIndexRequest, loadIndexCatalog, prepareIndexBuild, reportBuildingIndex } from '../index-image';

/**
 * create-empty-index: the from index's catalog with every package removed,
 * on the binary image, with the index labels and the user's labels. Only
 * file-based catalogs are built (SQLite indexes need opm), so `output_fbc`
 * is always honoured as true.
 */
export async function createEmptyIndex(ctx: BuildContext): Promise<void> {
  const prepared = await prepareIndexBuild(ctx);
  await reportBuildingIndex(ctx, prepared);
  const work = await loadIndexCatalog(ctx, prepared);
  const packages = [...work.catalog.packages.keys()].sort();
  ctx.reporter.log(`Removing all the operators from the index image: ${packages.join(', ') || '(none)'}`);
  await rm(work.configsDir, { recursive: true, force: true });
  const labels = (ctx.params.labels as Record<string, string> | undefined) ?? {};
  await finishIndexRequest(ctx, prepared, work.contextDir, {
    labels,
    reason: 'The empty index image was successfully created',
  });
}

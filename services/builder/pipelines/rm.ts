import type { BuildContext } from '../workspace/build-context';
import { writeTouchedPackages } from '../bundles';
import { removePackages } from '@iib-ts/catalog';
import {
  finishIndexRequest,
  fromIndexOverwrite,
  loadIndexCatalog,
  prepareIndexBuild,
  reportBuildingIndex,
} from '../index-image';

/**
 * rm (IIB's handle_rm_request, file-based catalogs): remove the packages
 * (and their `_operator-deprecations-content/<pkg>`) from the from index's
 * `/configs`; an unknown package fails with opm's `registry rm` error. Every
 * other file of `/configs` is left as it was.
 */
export async function rmPipeline(ctx: BuildContext): Promise<void> {
  const operators = Array.isArray(ctx.params.operators)
    ? ctx.params.operators.filter((o): o is string => typeof o === 'string')
    : [];
  const addArches = Array.isArray(ctx.params.add_arches) ? (ctx.params.add_arches as string[]) : [];
  const prepared = await prepareIndexBuild(ctx, addArches);
  await reportBuildingIndex(ctx, prepared);
  const work = await loadIndexCatalog(ctx, prepared);
  const before = new Map(work.catalog.packages);
  ctx.reporter.log(`Removing the operators from the index image: ${operators.join(', ')}`);
  const removed = removePackages(work.catalog, operators);
  const changed = await writeTouchedPackages(work.configsDir, before, work.catalog, removed);
  await finishIndexRequest(ctx, prepared, work.contextDir, {
    buildTags: Array.isArray(ctx.params.build_tags) ? (ctx.params.build_tags as string[]) : [],
    changed,
    reason: 'The operator(s) were successfully removed from the index image',
    overwrite: fromIndexOverwrite(ctx, prepared),
  });
}

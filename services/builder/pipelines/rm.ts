import type { BuildContext } from '../workspace/build-context';
import { removePackagesFromDir } from '@iib-ts/catalog';
import {
  DEPRECATIONS_DIR,
  extractIndexConfigs,
  finishIndexRequest,
  fromIndexOverwrite,
  prepareIndexBuild,
  reportBuildingIndex,
} from '../index-image';

/**
 * rm (IIB's handle_rm_request, file-based catalogs): remove the packages
 * (and their `_operator-deprecations-content/<pkg>`) from the from index's
 * `/configs`; an unknown package fails with opm's `registry rm` error. Every
 * other file of `/configs` is left as it was. Only the packages' own
 * directories are parsed when the catalog keeps each package in its own
 * directory (as opm and IIB write it); otherwise the whole catalog is.
 */
export async function rmPipeline(ctx: BuildContext): Promise<void> {
  const operators = Array.isArray(ctx.params.operators)
    ? ctx.params.operators.filter((o): o is string => typeof o === 'string')
    : [];
  const addArches = Array.isArray(ctx.params.add_arches) ? (ctx.params.add_arches as string[]) : [];
  const prepared = await prepareIndexBuild(ctx, addArches);
  await reportBuildingIndex(ctx, prepared);
  const work = await extractIndexConfigs(ctx, prepared);
  ctx.reporter.log(`Removing the operators from the index image: ${operators.join(', ')}`);
  const { changed } = await removePackagesFromDir(work.configsDir, operators, {
    companionDirs: [DEPRECATIONS_DIR],
  });
  await finishIndexRequest(ctx, prepared, work.contextDir, {
    buildTags: Array.isArray(ctx.params.build_tags) ? (ctx.params.build_tags as string[]) : [],
    changed,
    reason: 'The operator(s) were successfully removed from the index image',
    overwrite: fromIndexOverwrite(ctx, prepared),
  });
}

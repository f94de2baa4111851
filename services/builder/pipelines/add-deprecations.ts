import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../../shared/errors';
import type { BuildContext } from '../workspace/build-context';
import { readCatalog } from '@iib-ts/catalog';
import {
  DEPRECATIONS_DIR,
  extractIndexConfigs,
  finishIndexRequest,
  fromIndexOverwrite,
  prepareIndexBuild,
  reportBuildingIndex,
  validateConfigs,
} from '../index-image';
import { checkDeprecations, parseDeprecationSchema, pythonJson } from '../bundles';
import { stringList } from '../workspace/request-params';

/**
 * add-deprecations (IIB's build_add_deprecations): writes the request's
 * olm.deprecations blob to `/configs/_operator-deprecations-content/<pkg>/<pkg>.json`
 * (replacing an earlier one), validates, builds and optionally overwrites.
 * IIB requires the package in its hidden SQLite database; with no such
 * database here, the package must be defined in the index's /configs.
 */
export async function addDeprecations(ctx: BuildContext): Promise<void> {
  const pkg = ctx.params.operator_package as string;
  const schema = parseDeprecationSchema(ctx.params.deprecation_schema as string, pkg);
  if (pkg === '.' || pkg === '..' || path.basename(pkg) !== pkg) {
    throw new ValidationError(`The operator_package ${JSON.stringify(pkg)} is not a valid package name`);
  }
  await ctx.reporter.progress('Resolving the index images');
  const prepared = await prepareIndexBuild(ctx);
  await reportBuildingIndex(ctx, prepared);
  const { configsDir: configs } = await extractIndexConfigs(ctx, prepared);
  const present = (await readCatalog(configs)).packages.get(pkg)?.package !== undefined;
  if (!present) {
    throw new ValidationError(
      `Cannot add deprecations for ${pkg}, It is either not present in index or opted in fbc`,
    );
  }
  await ctx.reporter.progress('Getting all deprecations present in index image');
  const dir = path.join(configs, DEPRECATIONS_DIR, pkg);
  await mkdir(dir, { recursive: true });
  await ctx.reporter.progress('Adding deprecations to from_index');
  await writeFile(path.join(dir, `${pkg}.json`), pythonJson(schema));
  checkDeprecations(await validateConfigs(configs));
  await finishIndexRequest(ctx, prepared, path.dirname(configs), {
    buildTags: stringList(ctx.params.build_tags),
    changed: new Set([DEPRECATIONS_DIR]),
    reason: 'The deprecation schema was successfully added to the index image',
    overwrite: fromIndexOverwrite(ctx, prepared),
  });
}

import * as path from 'node:path';
import { ValidationError } from '../../../shared/errors';
import type { BuildContext } from '../workspace/build-context';
import {
  DEPRECATIONS_DIR,
  extractArch,
  extractConfigs,
  extractIndexConfigs,
  finishIndexRequest,
  fromIndexOverwrite,
  prepareIndexBuild,
  pyList,
  removeDeprecations,
  replaceDir,
  reportBuildingIndex,
  topLevel,
  validateConfigs,
} from '../index-image';
import type { ResolvedImage } from '../tools/images';
import { stringList } from '../workspace/request-params';

/** IIB's fbc_fragment_catalog_path: fragments carry their catalog here, whatever their labels say. */
const FRAGMENT_CONFIGS = '/configs';

interface Fragment {
  image: ResolvedImage;
  dir: string;
  packages: string[];
}

/**
 * fbc-operations (IIB's build_fbc_operations): every package directory of
 * each fragment's /configs replaces the same directory of the from index's
 * /configs (with its `_operator-deprecations-content` entry, as IIB does for
 * packages it knew); the result is validated, built and optionally
 * overwrites the from index.
 *
 * Two fragments of one request that carry the same package are refused: IIB
 * would let the later one win silently, dropping half of what was asked for.
 */
export async function fbcOperations(ctx: BuildContext): Promise<void> {
  const refs = fragmentRefs(ctx.params);
  await ctx.reporter.progress('Resolving the fbc fragments');
  const resolved: ResolvedImage[] = [];
  for (const ref of refs) resolved.push(await ctx.images.resolve(ref));
  const prepared = await prepareIndexBuild(ctx, stringList(ctx.params.add_arches));
  const fragmentFields: Record<string, unknown> = {
    fbc_fragments_resolved: resolved.map((r) => r.resolved),
  };
  if (typeof ctx.params.fbc_fragment === 'string' && resolved[0]) {
    fragmentFields.fbc_fragment_resolved = resolved[0].resolved;
  }
  await reportBuildingIndex(ctx, prepared, fragmentFields);

  await ctx.reporter.progress(`Extracting operator packages from ${resolved.length} fbc fragment(s)`);
  const { configsDir: configs } = await extractIndexConfigs(ctx, prepared);
  const fragments: Fragment[] = [];
  for (const [i, image] of resolved.entries()) {
    const dir = await extractConfigs(
      ctx,
      image,
      extractArch(image, prepared.arches),
      FRAGMENT_CONFIGS,
      `fbc-fragment-${i}`,
    );
    fragments.push({ image, dir, packages: await fragmentPackages(image, dir) });
  }
  checkConflicts(fragments);

  const existing = new Set((await topLevel(configs)).dirs);
  const replaced = fragments.flatMap((f) => f.packages).filter((p) => existing.has(p));
  const changed = new Set<string>();
  if ((await removeDeprecations(configs, replaced)).length > 0) changed.add(DEPRECATIONS_DIR);
  for (const [i, fragment] of fragments.entries()) {
    await ctx.reporter.progress(
      `Adding package(s) ${pyList(fragment.packages)} from fbc fragment ${i + 1}/${fragments.length} to from_index`,
    );
    for (const pkg of fragment.packages) {
      await replaceDir(configs, pkg, path.join(fragment.dir, pkg));
      changed.add(pkg);
    }
  }
  await validateConfigs(configs);
  await finishIndexRequest(ctx, prepared, path.dirname(configs), {
    buildTags: stringList(ctx.params.build_tags),
    changed,
    reason: `The ${resolved.length} FBC fragment(s) were successfully added in the index image`,
    fields: fragmentFields,
    overwrite: fromIndexOverwrite(ctx, prepared),
  });
}

function fragmentRefs(params: Record<string, unknown>): string[] {
  const list = stringList(params.fbc_fragments);
  if (list.length > 0) return list;
  if (typeof params.fbc_fragment === 'string' && params.fbc_fragment) return [params.fbc_fragment];
  throw new ValidationError('Either "fbc_fragment" or "fbc_fragments" must be provided');
}

async function fragmentPackages(image: ResolvedImage, dir: string): Promise<string[]> {
  const { dirs, files } = await topLevel(dir);
  if (files.length > 0) {
    throw new ValidationError(
      `The fbc fragment ${image.ref} has files at the top of ${FRAGMENT_CONFIGS} (${files.join(', ')}); each package must be a directory`,
    );
  }
  if (dirs.includes(DEPRECATIONS_DIR)) {
    throw new ValidationError(
      `The fbc fragment ${image.ref} contains ${FRAGMENT_CONFIGS}/${DEPRECATIONS_DIR}, which only add-deprecations may change`,
    );
  }
  if (dirs.length === 0) throw new ValidationError(`No operator packages in fbc_fragment ${image.ref}`);
  return dirs;
}

function checkConflicts(fragments: readonly Fragment[]): void {
  const owner = new Map<string, string>();
  for (const f of fragments) {
    for (const pkg of f.packages) {
      const other = owner.get(pkg);
      if (other !== undefined) {
        throw new ValidationError(
          `The fbc fragments ${other} and ${f.image.ref} both contain the package ${pkg}; a package can come from one fragment only`,
        );
      }
      owner.set(pkg, f.image.ref);
    }
  }
}

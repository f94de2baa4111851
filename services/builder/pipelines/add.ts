import {
  finishIndexRequest,
  fromIndexOverwrite,
  type IndexCatalog,
  loadIndexCatalog,
  type PreparedBuild,
  prepareIndexBuild,
  reportBuildingIndex,
  resolveBinary,
  SCRATCH,
} from '../index-image';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../../shared/errors';
import type { BuildContext } from '../workspace/build-context';
import {
  BundleFiles,
  bundleMapping,
  catalogBundleImages,
  checkRelatedImages,
  resolveBundles,
  type ResolvedBundle,
  splitPresent,
  verifyRequiredLabels,
  writeTouchedPackages,
} from '../bundles';
import {
  ADD_MODES,
  addBundles,
  CatalogError,
  deprecateBundles,
  emptyCatalog,
  type AddMode,
} from '@iib-ts/catalog';

const SCOPES = ['dev', 'stage', 'prod'];
/** IIB's default OCP version when there is no from_index to read it from. */
const DEFAULT_OCP_VERSION = 'v4.5';

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * IIB's prepare_request_for_build for an add without from_index: the index
 * starts empty, the arches are add_arches, OCP version v4.5, scope as
 * requested (default prod).
 */
async function prepareWithoutFromIndex(ctx: BuildContext, addArches: string[]): Promise<PreparedBuild> {
  await ctx.reporter.progress('Resolving the container images');
  const scope = typeof ctx.params.distribution_scope === 'string' ? ctx.params.distribution_scope : 'prod';
  if (!SCOPES.includes(scope)) throw new ValidationError(`Unknown distribution scope ${scope}`);
  let binaryRef = typeof ctx.params.binary_image === 'string' ? ctx.params.binary_image : undefined;
  binaryRef ??= ctx.binaryImageConfig?.[scope]?.[DEFAULT_OCP_VERSION];
  if (!binaryRef) {
    throw new ValidationError(
      `The "binary_image" value was not provided and no binary image is configured for distribution scope ${scope} and OCP version ${DEFAULT_OCP_VERSION}`,
    );
  }
  // A binaryless catalog without from_index is amd64 unless add_arches says otherwise (IIB).
  const arches = [...new Set(addArches.length === 0 && binaryRef === SCRATCH ? ['amd64'] : addArches)].sort();
  if (arches.length === 0) throw new ValidationError('No arches were provided to build the index image');
  const binary = await resolveBinary(ctx, binaryRef, arches);
  const missing = arches.filter((a) => !binary.arches.includes(a));
  if (missing.length > 0) {
    throw new ValidationError(
      `The binary image is not available for the following arches: ${missing.join(', ')}`,
    );
  }
  return {
    // No from index: nothing to compare, overwrite or reuse.
    fromIndex: { ref: '', resolved: '', digest: '', arches: [], isList: false },
    binary,
    arches,
    ocpVersion: DEFAULT_OCP_VERSION,
    distributionScope: scope,
    configsPath: '/configs',
  };
}

async function emptyIndexCatalog(ctx: BuildContext): Promise<IndexCatalog> {
  const contextDir = path.join(ctx.workDir, 'context');
  const configsDir = path.join(contextDir, 'configs');
  await mkdir(configsDir, { recursive: true });
  return { contextDir, configsDir, catalog: emptyCatalog() };
}

/**
 * add (IIB's handle_add_request, file-based catalogs): pin the bundles,
 * check labels and related images, drop those already in the index, add the
 * rest with opm's graph semantics, apply the deprecation list, build, push
 * and optionally overwrite the from index.
 */
export async function addPipeline(ctx: BuildContext): Promise<void> {
  const files = new BundleFiles(ctx);
  try {
    await add(ctx, files);
  } catch (err) {
    if (err instanceof CatalogError) throw new ValidationError(files.userMessage(err.message));
    throw err;
  }
}

async function add(ctx: BuildContext, files: BundleFiles): Promise<void> {
  const fromIndexRef = typeof ctx.params.from_index === 'string' ? ctx.params.from_index : undefined;
  const requested = stringList(ctx.params.bundles);
  const mode = (ctx.params.graph_update_mode ?? 'replaces') as AddMode;
  if (!ADD_MODES.includes(mode)) {
    throw new ValidationError(`The graph_update_mode ${String(mode)} is not supported`);
  }

  await ctx.reporter.progress('Resolving the bundles');
  const bundles = await resolveBundles(ctx, requested);
  verifyRequiredLabels(bundles, ctx.config.requiredLabels);
  if (ctx.params.check_related_images === true) await checkRelatedImages(ctx, bundles, files);

  const addArches = stringList(ctx.params.add_arches);
  const prepared = fromIndexRef
    ? await prepareIndexBuild(ctx, addArches)
    : await prepareWithoutFromIndex(ctx, addArches);
  const mapping = bundleMapping(bundles);
  await reportBuildingIndex(
    ctx,
    prepared,
    Object.keys(mapping).length > 0 ? { bundle_mapping: mapping } : {},
  );

  let work: IndexCatalog;
  let toAdd: ResolvedBundle[] = bundles;
  if (fromIndexRef) {
    await ctx.reporter.progress('Checking if bundles are already present in index image');
    work = await loadIndexCatalog(ctx, prepared);
    const split = splitPresent(work.catalog, bundles);
    toAdd = split.missing;
    if (split.present.length > 0) {
      ctx.reporter.log(
        `Following bundles are already present in the index image: ${split.present.map((b) => b.resolved).join(' ')}`,
      );
    }
  } else {
    work = await emptyIndexCatalog(ctx);
  }
  const presentImages = catalogBundleImages(work.catalog);
  const before = new Map(work.catalog.packages);
  const touched = new Set<string>();

  if (toAdd.length > 0) {
    for (const pkg of await addToCatalog(ctx, files, work, toAdd, mode, prepared)) touched.add(pkg);
  }
  const candidates = [...presentImages, ...toAdd.map((b) => b.resolved)];
  for (const pkg of await deprecateListed(ctx, work, candidates)) touched.add(pkg);

  const changed = await writeTouchedPackages(work.configsDir, before, work.catalog, touched);
  await finishIndexRequest(ctx, prepared, work.contextDir, {
    buildTags: stringList(ctx.params.build_tags),
    // Without a from index there is nothing to layer onto: a full build.
    changed: fromIndexRef ? changed : undefined,
    reason: 'The operator bundle(s) were successfully added to the index image',
    fields: {
      bundle_mapping: mapping,
      ...(fromIndexRef ? {} : { from_index_resolved: null }),
    },
    overwrite: fromIndexOverwrite(ctx, prepared),
  });
}

/** Adds the bundles to the catalog with opm's graph semantics; returns the packages changed. */
async function addToCatalog(
  ctx: BuildContext,
  files: BundleFiles,
  work: IndexCatalog,
  toAdd: readonly ResolvedBundle[],
  mode: AddMode,
  prepared: PreparedBuild,
): Promise<Set<string>> {
  const sources = [];
  for (const b of toAdd) sources.push({ dir: await files.dirOf(b), image: b.resolved });
  const overwriteLatest = ['dev', 'stage'].includes(prepared.distributionScope);
  ctx.reporter.log(
    `Adding bundles (mode ${mode}${overwriteLatest ? ', overwrite latest' : ''}): ${toAdd.map((b) => b.resolved).join(', ')}`,
  );
  const added = await addBundles(work.catalog, sources, { mode, overwriteLatest });
  for (const w of added.warnings) ctx.reporter.log(`warning: ${w}`);
  return new Set(added.dirty);
}

/**
 * IIB's get_bundles_from_deprecation_list: the listed bundles, pinned, then
 * matched against the index's and the added bundles (`candidates`), are
 * deprecated; returns the packages changed.
 */
async function deprecateListed(
  ctx: BuildContext,
  work: IndexCatalog,
  candidates: readonly string[],
): Promise<Iterable<string>> {
  const deprecationList = stringList(ctx.params.deprecation_list);
  if (deprecationList.length === 0) return [];
  const pinned = (await resolveBundles(ctx, deprecationList)).map((b) => b.resolved);
  const deprecate = [...new Set(candidates.filter((img) => pinned.includes(img)))];
  if (deprecate.length === 0) {
    ctx.reporter.log('Deprecation list was set but no bundles were found for deprecation.');
    return [];
  }
  ctx.reporter.log(`Bundles that will be deprecated from the index image: ${deprecate.join(', ')}`);
  return deprecateBundles(work.catalog, deprecate);
}

import * as path from 'node:path';
import { ValidationError } from '../../../shared/errors';
import type { BuildContext } from '../workspace/build-context';
import {
  addRenderedBundles,
  ADD_MODES,
  CatalogError,
  missingBundles,
  readCatalog,
  type AddMode,
  type BundleBlob,
  type Catalog,
  type RenderedBundle,
} from '@iib-ts/catalog';
import {
  DEPRECATIONS_DIR,
  editCatalog,
  LABEL_CONFIGS,
  extractArch,
  extractConfigs,
  extractIndexConfigs,
  finishIndexRequest,
  prepareIndexBuildFrom,
  removeDeprecations,
  reportBuildingIndex,
  validateConfigs,
} from '../index-image';
import { writeOverwriteAuthFile } from '../tools/registry-auth';
import {
  deprecateAllowingPackageRemoval,
  indexOcpVersion,
  isBundleVersionValid,
  LABEL_OPENSHIFT_VERSIONS,
  latestPerPackage,
} from '../bundles';
import { stringList } from '../workspace/request-params';

const LABEL_CHECKS_AT_ONCE = 8;

/**
 * merge-index-image (IIB's build_merge_index_image): the source index plus
 * every target bundle it lacks (by digest and by CSV name); bundles whose
 * `com.redhat.openshift.versions` excludes the target's OCP version, and
 * those of `deprecation_list`, are deprecated (latest per package,
 * `--allow-package-removal`). Scope, OCP version, binary image and labels
 * come from the target; the result may overwrite the target.
 */
export async function mergeIndexImage(ctx: BuildContext): Promise<void> {
  const sourceRef = ctx.params.source_from_index as string;
  const targetRef = typeof ctx.params.target_index === 'string' ? ctx.params.target_index : undefined;
  const token = ctx.secrets.overwrite_target_index_token;
  const overwrite = ctx.params.overwrite_target_index === true;
  if (overwrite && !targetRef) {
    throw new ValidationError('The "target_index" value is required to use "overwrite_target_index"');
  }
  const mode = graphMode(ctx.params.graph_update_mode);
  const targetImages =
    token && targetRef
      ? ctx.images.withAuthFile(await writeOverwriteAuthFile(ctx.workDir, ctx.authFile, targetRef, token))
      : ctx.images;

  const prepared = await prepareIndexBuildFrom(ctx, {
    content: sourceRef,
    labelsFrom: targetRef ?? null,
    defaultOcpVersion: 'v4.6',
    labelsImages: targetImages,
  });
  const target = prepared.labelsIndex;
  if (target && !prepared.labelsIndexLabels[LABEL_CONFIGS]) {
    throw new ValidationError(
      'Cannot merge source File-Based Catalog index image into target SQLite index image.',
    );
  }
  const resolvedFields = {
    source_from_index_resolved: prepared.fromIndex.resolved,
    ...(target ? { target_index_resolved: target.resolved } : {}),
  };
  await reportBuildingIndex(ctx, prepared, resolvedFields);

  await ctx.reporter.progress('Getting bundles present in the index images');
  const { configsDir: configs } = await extractIndexConfigs(ctx, prepared);
  let targetCatalog: Catalog | undefined;
  if (target) {
    const targetConfigs = await extractConfigs(
      ctx,
      target,
      extractArch(target, prepared.arches),
      prepared.labelsIndexLabels[LABEL_CONFIGS] ?? '/configs',
      'target-index',
      targetImages,
    );
    targetCatalog = await readCatalog(targetConfigs);
  }

  const result = await editCatalog(configs, (source) =>
    mergeBundles(ctx, source, targetCatalog, {
      mode,
      ocpVersion: prepared.ocpVersion,
      allowNoOcp: allowNoOcpVersion(ctx, sourceRef, targetRef),
    }),
  );

  const changed = result.changed ? new Set(result.changed) : undefined;
  if ((await removeDeprecations(configs, result.removed)).length > 0) changed?.add(DEPRECATIONS_DIR);
  await validateConfigs(configs);
  await finishIndexRequest(ctx, prepared, path.dirname(configs), {
    buildTags: stringList(ctx.params.build_tags),
    changed,
    reason: 'The index image was successfully cleaned and updated.',
    fields: resolvedFields,
    overwrite:
      overwrite && targetRef && target ? { target: targetRef, resolvedAtStart: target, token } : undefined,
  });
}

function graphMode(value: unknown): AddMode {
  if (value === undefined || value === null || value === '') return 'replaces';
  if (typeof value === 'string' && (ADD_MODES as readonly string[]).includes(value)) return value as AddMode;
  throw new ValidationError(`The graph_update_mode ${JSON.stringify(value)} is not supported`);
}

function bundlesOf(catalog: Catalog): BundleBlob[] {
  return [...catalog.packages.values()].flatMap((b) => b.bundles);
}

function digestOf(image: string): string {
  return image.split('@sha256:').pop() ?? image;
}

function requireDigests(bundles: readonly BundleBlob[], which: 'source' | 'target'): void {
  const tagged = bundles.find((b) => !b.image.includes('@sha256:'));
  if (tagged) {
    throw new ValidationError(`Bundle ${tagged.image} in the ${which} index image is not defined via digest`);
  }
}

/** Runs a catalog engine step; its opm message becomes the reason, prefixed as IIB's run_cmd does. */
function catalogStep<T>(step: () => T, prefix = 'Failed to add the missing bundles to the index image'): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof CatalogError) throw new ValidationError(`${prefix}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** IIB: ignore_bundle_ocp_version counts only for an allow-listed index prefix or user. */
function allowNoOcpVersion(ctx: BuildContext, source: string, target: string | undefined): boolean {
  if (ctx.params.ignore_bundle_ocp_version !== true) return false;
  return ctx.config.noOcpLabelAllowList.some(
    (entry) => (target ?? '').startsWith(entry) || source.startsWith(entry) || ctx.event.user === entry,
  );
}

async function invalidForOcp(
  ctx: BuildContext,
  bundles: readonly BundleBlob[],
  ocpVersion: string,
  allowNoOcp: boolean,
): Promise<BundleBlob[]> {
  try {
    indexOcpVersion(ocpVersion);
  } catch (err) {
    throw new ValidationError((err as Error).message);
  }
  const invalid: BundleBlob[] = [];
  const queue = [...bundles];
  const worker = async (): Promise<void> => {
    for (let b = queue.shift(); b; b = queue.shift()) {
      const labels = await ctx.images.labels(b.image);
      if (!isBundleVersionValid(labels[LABEL_OPENSHIFT_VERSIONS], ocpVersion, allowNoOcp)) invalid.push(b);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LABEL_CHECKS_AT_ONCE, queue.length) }, worker));
  return invalid;
}

/**
 * IIB's get_bundles_from_deprecation_list: each listed image is resolved and
 * the bundles (missing + source) with that content are deprecated. Matching
 * is by digest, so the list may name a bundle by tag or by another repository.
 */
async function deprecationListBundles(
  ctx: BuildContext,
  candidates: readonly BundleBlob[],
): Promise<string[]> {
  const list = stringList(ctx.params.deprecation_list);
  if (list.length === 0) return [];
  const digests = new Set<string>();
  for (const ref of list) {
    const m = await ctx.images.rawManifest(ref);
    digests.add(m.digest);
    const first = (m.json as { manifests?: { digest?: string }[] }).manifests?.[0]?.digest;
    if (first) digests.add(first);
  }
  const found = candidates.filter((b) => digests.has(`sha256:${digestOf(b.image)}`)).map((b) => b.image);
  if (found.length === 0)
    ctx.reporter.log('Deprecation list was set but no bundles were found for deprecation.');
  return [...new Set(found)];
}

/**
 * The merge itself, on the source catalog: the target's bundles it lacks
 * added, then the listed bundles and those whose OCP versions exclude the
 * target's deprecated (latest per package, removing a package if need be).
 */
async function mergeBundles(
  ctx: BuildContext,
  source: Catalog,
  targetCatalog: Catalog | undefined,
  opts: { mode: AddMode; ocpVersion: string; allowNoOcp: boolean },
): Promise<{ dirty: Set<string>; removed: Set<string> }> {
  const sourceBundles = bundlesOf(source);
  const targetBundles = targetCatalog ? bundlesOf(targetCatalog) : [];
  requireDigests(sourceBundles, 'source');
  requireDigests(targetBundles, 'target');

  await ctx.reporter.progress('Adding bundles missing in source index image');
  const sourceDigests = new Set(sourceBundles.map((b) => digestOf(b.image)));
  const missing: RenderedBundle[] = targetCatalog
    ? missingBundles(targetCatalog, source).filter((m) => !sourceDigests.has(digestOf(m.blob.image)))
    : [];
  ctx.reporter.log(
    `Bundles missing in the source index image: ${missing.map((m) => m.blob.image).join(', ') || '(none)'}`,
  );
  const checked = [...missing.map((m) => m.blob), ...sourceBundles];
  const invalid = await invalidForOcp(ctx, checked, opts.ocpVersion, opts.allowNoOcp);

  const dirty = new Set<string>();
  if (missing.length > 0) {
    const batches = opts.mode === 'replaces' ? [missing] : missing.map((m) => [m]);
    for (const batch of batches) {
      for (const p of catalogStep(() => addRenderedBundles(source, batch, { mode: opts.mode })).dirty)
        dirty.add(p);
    }
  }

  await ctx.reporter.progress('Deprecating bundles in the deprecation list');
  const candidates = [...missing.map((m) => m.blob), ...sourceBundles];
  const listed = await deprecationListBundles(ctx, candidates);
  const invalidPresent = invalid.filter((b) => source.packages.has(b.package)).map((b) => b.image);
  if (invalidPresent.length > 0) {
    ctx.reporter.log(
      `Bundles whose ${LABEL_OPENSHIFT_VERSIONS} excludes ${opts.ocpVersion}, to deprecate: ${invalidPresent.join(', ')}`,
    );
  }
  const toDeprecate = [...new Set([...listed, ...invalidPresent])];
  let removed = new Set<string>();
  if (toDeprecate.length > 0) {
    const latest = latestPerPackage(toDeprecate, [...sourceBundles, ...targetBundles]);
    ctx.reporter.log(`Deprecating bundles: ${latest.join(', ')}`);
    const r = catalogStep(
      () => deprecateAllowingPackageRemoval(source, latest),
      'Failed to deprecate the bundles',
    );
    r.dirty.forEach((p) => dirty.add(p));
    removed = r.removed;
  }
  return { dirty, removed };
}

import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../shared/errors';
import { readCatalog, type Catalog } from '@iib-ts/catalog';
import { writeOverwriteAuthFile } from './registry-auth';
import { BuildContext, LABEL_CONFIGS, LABEL_OCP_VERSION, LABEL_SCOPE } from './build-context';
import type { RawImageConfig, ResolvedImage } from './images';
import { planIncremental, pushIncremental } from './incremental';
import { normalizeCatalogModes } from './incremental-layer';
import { extractArch } from './pipelines/configs-files';
import { isBinaryless, resolveBinary } from './binary-image';
import { makeServeCache, type ServeCache } from './serve-cache';
import { builderArch, cacheDirOf, indexCommand, type IndexCommand } from './serve-command';

export interface PreparedBuild {
  fromIndex: ResolvedImage;
  binary: ResolvedImage;
  arches: string[];
  ocpVersion: string;
  distributionScope: string;
  configsPath: string;
}

const SCOPES = ['dev', 'stage', 'prod'];

/**
 * IIB's prepare_request_for_build for an index request: resolve the from
 * index and the binary image, and derive arches, OCP version and scope.
 */
export async function prepareIndexBuild(ctx: BuildContext, addArches: string[] = []): Promise<PreparedBuild> {
  return prepareIndexBuildFrom(ctx, { content: ctx.params.from_index as string, addArches });
}

export interface PrepareIndexOptions {
  /** The index whose `/configs` the request edits; the build starts from it (merge: source_from_index). */
  content: string;
  /**
   * The index whose labels give the OCP version and distribution scope and whose arches
   * are built too (merge: target_index); null means none (IIB's defaults apply). Default: `content`.
   */
  labelsFrom?: string | null;
  /** OCP version when that index has no label (IIB: v4.5, merge target v4.6). */
  defaultOcpVersion?: string;
  addArches?: string[];
  /** skopeo for `labelsFrom` (e.g. with the overwrite_target_index_token); default ctx.images. */
  labelsImages?: BuildContext['images'];
}

export interface PreparedIndexBuild extends PreparedBuild {
  /** The resolved `labelsFrom` index, when there is one. */
  labelsIndex: ResolvedImage | undefined;
  /** Its labels (empty without one). */
  labelsIndexLabels: Record<string, string>;
}

/**
 * prepareIndexBuild for requests whose edited index and label source differ
 * (merge-index-image): IIB takes scope, OCP version and binary image from the
 * target, arches from both indexes.
 */
export async function prepareIndexBuildFrom(
  ctx: BuildContext,
  options: PrepareIndexOptions,
): Promise<PreparedIndexBuild> {
  await ctx.reporter.progress('Resolving the container images');
  const content = await ctx.images.resolve(options.content);
  const contentLabels = await ctx.images.labels(content.resolved, content.arches[0]);
  const configsPath = contentLabels[LABEL_CONFIGS];
  if (!configsPath) {
    throw new ValidationError(
      `The index image ${options.content} is not a file-based catalog (it has no ${LABEL_CONFIGS} label); SQLite indexes are not supported`,
    );
  }
  const labelsRef = options.labelsFrom === undefined ? options.content : options.labelsFrom;
  let labelsIndex: ResolvedImage | undefined;
  let labels: Record<string, string> = {};
  if (labelsRef === options.content) {
    labelsIndex = content;
    labels = contentLabels;
  } else if (labelsRef) {
    const images = options.labelsImages ?? ctx.images;
    labelsIndex = await images.resolve(labelsRef);
    labels = await images.labels(labelsIndex.resolved, labelsIndex.arches[0]);
  }
  const arches = [
    ...new Set([...content.arches, ...(labelsIndex?.arches ?? []), ...(options.addArches ?? [])]),
  ].sort();
  const ocpVersion = labels[LABEL_OCP_VERSION] ?? options.defaultOcpVersion ?? 'v4.5';
  const fromScope = (labels[LABEL_SCOPE] ?? 'prod').toLowerCase();
  const requested =
    typeof ctx.params.distribution_scope === 'string' ? ctx.params.distribution_scope : fromScope;
  if (SCOPES.indexOf(requested) > SCOPES.indexOf(fromScope)) {
    throw new ValidationError(
      `Cannot set "distribution_scope" to ${requested} because from index is already set to ${fromScope}`,
    );
  }
  let binaryRef = typeof ctx.params.binary_image === 'string' ? ctx.params.binary_image : undefined;
  binaryRef ??= ctx.binaryImageConfig?.[requested]?.[ocpVersion];
  if (!binaryRef) {
    throw new ValidationError(
      `The "binary_image" value was not provided and no binary image is configured for distribution scope ${requested} and OCP version ${ocpVersion}`,
    );
  }
  const binary = await resolveBinary(ctx, binaryRef, arches);
  const missing = arches.filter((a) => !binary.arches.includes(a));
  if (missing.length > 0) {
    throw new ValidationError(
      `The binary image ${binaryRef} is not available for the following arches: ${missing.join(', ')}`,
    );
  }
  return {
    fromIndex: content,
    binary,
    arches,
    ocpVersion,
    distributionScope: requested,
    configsPath,
    labelsIndex,
    labelsIndexLabels: labels,
  };
}

/**
 * IIB's index.Dockerfile: the binary image, its serve command, the catalog,
 * the serve cache (owned by uid 1001, group 0, as IIB copies it: OpenShift
 * runs the image as a non-root user of group 0) and the labels. A binaryless
 * catalog is `/configs` and the labels only.
 */
export function indexDockerfile(
  binary: string | undefined,
  command: IndexCommand | undefined,
  cache: ServeCache | undefined,
  labels: Record<string, string>,
): string {
  const lines = [
    `FROM ${binary ?? 'scratch'}`,
    ...(command
      ? [`ENTRYPOINT ${JSON.stringify(command.entrypoint)}`, `CMD ${JSON.stringify(command.cmd)}`]
      : []),
    'ADD configs /configs',
    ...(cache ? [`COPY --chown=1001:0 ${path.basename(cache.localDir)} ${cache.imageDir}`] : []),
    ...Object.entries(labels).map(([k, v]) => `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`),
  ];
  return `${lines.join('\n')}\n`;
}

export interface IndexBuildOptions {
  /** Labels beyond the configs, OCP version and scope labels. */
  labels?: Record<string, string>;
  /** Extra tags of the manifest list (`<registry>/iib-build:<tag>`). */
  buildTags?: string[];
  /**
   * Top-level entries of `/configs` (package directories) that this request
   * changed or removed; everything else is the from index's catalog as it was.
   * Undefined means unknown (rebuild everything).
   */
  changed?: ReadonlySet<string>;
}

/**
 * Builds `FROM binary` + `/configs` for every arch, pushes each, then the
 * manifest list `<registry>/iib-build:<id>` (and the build tags). When the
 * from index is the same binary plus catalog layers and the changed packages
 * are known, each arch is the from index plus one layer of those packages
 * instead (see incremental.ts and docs/builder.md).
 */
export async function buildAndPushIndex(
  ctx: BuildContext,
  prepared: PreparedBuild,
  contextDir: string,
  options: IndexBuildOptions = {},
): Promise<{ index_image: string; index_image_resolved: string }> {
  const id = ctx.event.id;
  const labels = {
    [LABEL_CONFIGS]: '/configs',
    [LABEL_OCP_VERSION]: prepared.ocpVersion,
    [LABEL_SCOPE]: prepared.distributionScope,
    ...(options.labels ?? {}),
  };
  // Local names of this build only: builders of other deployments (or test
  // runs) may share this machine's buildah storage and reuse request ids.
  const unique = randomBytes(4).toString('hex');
  const configsDir = path.join(contextDir, 'configs');
  await mkdir(configsDir, { recursive: true });
  await normalizeCatalogModes(configsDir);
  const { command, base } = await commandOf(ctx, prepared);
  const cacheDir = command
    ? cacheDirOf([...command.entrypoint, ...command.cmd], base?.WorkingDir)
    : undefined;
  // The binary's opm makes the cache while the plan reads the from index:
  // the plan only needs to know where the cache goes.
  const making = command
    ? makeServeCache(ctx, prepared.binary, base, command, configsDir, contextDir)
    : Promise.resolve(undefined);
  making.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled meanwhile
  let plan = await planIncremental(ctx, prepared, configsDir, options.changed, { command, cacheDir });
  const cache = await making;
  if (!cache && plan.kind === 'incremental' && plan.cacheAbove) {
    // No cache after all (no opm): the from index's old cache must not stay beside the new catalog.
    plan = await planIncremental(ctx, prepared, configsDir, options.changed, { command });
  }
  let pushed: string[];
  if (plan.kind === 'incremental') {
    ctx.log.info(
      { packages: plan.changed.length, catalogLayers: plan.catalogLayers },
      'pushing the changed packages as one layer',
    );
    ctx.reporter.log(
      `pushing ${plan.changed.length} changed packages as one layer over the from index (catalog layers: ${plan.catalogLayers} -> ${plan.catalogLayers + 1})`,
    );
    if (plan.unreported.length > 0) {
      ctx.reporter.log(`also changed on disk, though not reported: ${plan.unreported.join(', ')}`);
    }
    pushed = await pushIncremental(ctx, plan, configsDir, labels, cache);
  } else {
    ctx.log.info({ reason: plan.reason }, 'full rebuild');
    ctx.reporter.log(`full rebuild: ${plan.reason}`);
    const dockerfilePath = path.join(contextDir, 'index.Dockerfile');
    const binary = isBinaryless(prepared.binary) ? undefined : prepared.binary.resolved;
    await writeFile(dockerfilePath, indexDockerfile(binary, command, cache, labels));
    // One creation time for every arch: their catalog layers are then
    // identical, which the next incremental build requires.
    const timestamp = Math.floor(Date.now() / 1000);
    // The arches build side by side: buildah locks its storage itself, and
    // one arch's bud overlaps the other's push.
    pushed = await Promise.all(
      prepared.arches.map(async (arch) => {
        const local = `iib-build:${id}-${arch}-${unique}`;
        ctx.localTags.push(local);
        await ctx.buildah.buildArch({ contextDir, dockerfile: dockerfilePath, tag: local, arch, timestamp });
        const remote = `${ctx.registry}/iib-build:${id}-${arch}`;
        await ctx.buildah.push(local, remote);
        return remote;
      }),
    );
  }
  await ctx.reporter.progress('Creating the manifest list');
  const output = `${ctx.registry}/iib-build:${id}`;
  const dests = [output, ...(options.buildTags ?? []).map((t) => `${ctx.registry}/iib-build:${t}`)];
  await ctx.buildah.pushManifestList(`iib-build-${id}-${unique}-list`, pushed, dests);
  const resolved = await ctx.images.resolve(output);
  return { index_image: output, index_image_resolved: resolved.resolved };
}

/**
 * The image's command, decided by the binary image's runtime config (its
 * arch for this machine, whose opm makes the cache); a binaryless catalog
 * has none.
 */
async function commandOf(
  ctx: BuildContext,
  prepared: PreparedBuild,
): Promise<{ command?: IndexCommand; base?: RawImageConfig['config'] }> {
  if (isBinaryless(prepared.binary)) return {};
  const here = builderArch();
  const arch = prepared.binary.arches.includes(here) ? here : (prepared.arches[0] ?? here);
  const base = (await ctx.images.archImage(prepared.binary.resolved, arch)).config.config;
  return { command: indexCommand(base), base };
}

/** The from index's catalog, extracted into `<workDir>/context/configs` and parsed. */
export interface IndexCatalog {
  contextDir: string;
  configsDir: string;
  catalog: Catalog;
}

/**
 * Extracts the from index's catalog into `<workDir>/context/configs`. The
 * image's layout stays in `<workDir>/image-<arch>`, where an incremental
 * build reads its layers instead of downloading them again.
 */
export async function extractIndexConfigs(
  ctx: BuildContext,
  prepared: PreparedBuild,
): Promise<{ contextDir: string; configsDir: string }> {
  const contextDir = path.join(ctx.workDir, 'context');
  const configsDir = path.join(contextDir, 'configs');
  const arch = extractArch(prepared.fromIndex, prepared.arches);
  const root = path.join(ctx.workDir, 'from-index');
  await ctx.images.extract(prepared.fromIndex.resolved, arch, prepared.configsPath, ctx.workDir, root);
  await mkdir(contextDir, { recursive: true });
  const extracted = path.join(root, prepared.configsPath.replace(/^\/+/, ''));
  await rename(extracted, configsDir).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(configsDir, { recursive: true });
  });
  return { contextDir, configsDir };
}

export async function loadIndexCatalog(ctx: BuildContext, prepared: PreparedBuild): Promise<IndexCatalog> {
  const { contextDir, configsDir } = await extractIndexConfigs(ctx, prepared);
  return { contextDir, configsDir, catalog: await readCatalog(configsDir) };
}

/**
 * IIB's "Building the index image for the following arches: ..." update,
 * with the resolved images it reports at that point (plus `fields`).
 */
export async function reportBuildingIndex(
  ctx: BuildContext,
  prepared: PreparedBuild,
  fields: Record<string, unknown> = {},
): Promise<void> {
  await ctx.reporter.progress(
    `Building the index image for the following arches: ${prepared.arches.join(', ')}`,
    {
      arches: prepared.arches,
      binary_image: prepared.binary.ref,
      binary_image_resolved: prepared.binary.resolved,
      distribution_scope: prepared.distributionScope,
      ...(prepared.fromIndex.resolved ? { from_index_resolved: prepared.fromIndex.resolved } : {}),
      ...fields,
    },
  );
}

/** The overwrite of `from_index` a request asked for (`overwrite_from_index`), if any. */
export function fromIndexOverwrite(ctx: BuildContext, prepared: PreparedBuild): FinishOptions['overwrite'] {
  const target = ctx.params.from_index;
  if (ctx.params.overwrite_from_index !== true || typeof target !== 'string' || !target) return undefined;
  return { target, resolvedAtStart: prepared.fromIndex, token: ctx.secrets.overwrite_from_index_token };
}

export const FROM_INDEX_CHANGED =
  'The supplied from_index image changed during the IIB request. Please resubmit the request.';

export interface FinishOptions extends IndexBuildOptions {
  /** The final state_reason. */
  reason: string;
  /** Result fields reported with the final state (bundle_mapping, ...). */
  fields?: Record<string, unknown>;
  /** Copy the result onto this image (the from_index or target_index) with `token`. */
  overwrite?: { target: string; resolvedAtStart: ResolvedImage; token: string | undefined };
}

/** `index_image` as users see it: IIB_INDEX_IMAGE_OUTPUT_REGISTRY in place of the push registry. */
export function publicImage(ctx: BuildContext, image: string): string {
  const out = ctx.config.indexImageOutputRegistry;
  return out && image.startsWith(`${ctx.registry}/`)
    ? `${out}/${image.slice(ctx.registry.length + 1)}`
    : image;
}

/**
 * The end of every index request: build and push, optionally overwrite the
 * from index (only if it did not change meanwhile), report `complete`.
 */
export async function finishIndexRequest(
  ctx: BuildContext,
  prepared: PreparedBuild,
  contextDir: string,
  options: FinishOptions,
): Promise<void> {
  const built = await buildAndPushIndex(ctx, prepared, contextDir, options);
  let indexImage = publicImage(ctx, built.index_image);
  let indexImageResolved = publicImage(ctx, built.index_image_resolved);
  if (options.overwrite) {
    const result = await overwriteIndex(ctx, built.index_image, options.overwrite);
    indexImage = result.image;
    indexImageResolved = result.resolved;
  }
  await ctx.reporter.state('complete', options.reason, {
    arches: prepared.arches,
    binary_image: prepared.binary.ref,
    binary_image_resolved: prepared.binary.resolved,
    from_index_resolved: prepared.fromIndex.resolved,
    distribution_scope: prepared.distributionScope,
    ...(options.fields ?? {}),
    index_image: indexImage,
    index_image_resolved: indexImageResolved,
    internal_index_image_copy: publicImage(ctx, built.index_image),
    internal_index_image_copy_resolved: publicImage(ctx, built.index_image_resolved),
  });
}

/**
 * IIB's _overwrite_from_index: re-resolve the target and refuse if it moved
 * since the request resolved it, then `skopeo copy --all` the built list onto
 * it with the caller's token, from an auth file of this request alone.
 */
export async function overwriteIndex(
  ctx: BuildContext,
  built: string,
  overwrite: NonNullable<FinishOptions['overwrite']>,
): Promise<{ image: string; resolved: string }> {
  const authFile = overwrite.token
    ? await writeOverwriteAuthFile(ctx.workDir, ctx.authFile, overwrite.target, overwrite.token)
    : ctx.authFile;
  const images = ctx.images.withAuthFile(authFile);
  const now = await images.resolve(overwrite.target);
  if (now.digest !== overwrite.resolvedAtStart.digest) throw new ValidationError(FROM_INDEX_CHANGED);
  await ctx.reporter.progress(`Overwriting the index image ${overwrite.target} with ${built}`);
  await images.copyAll(built, overwrite.target);
  const after = await images.resolve(overwrite.target);
  return { image: overwrite.target, resolved: after.resolved };
}

import { copyFile, link, mkdir, readdir, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { trace } from '@opentelemetry/api';
import type { BuildContext } from '../workspace/build-context';
import type { ArchImage, ImageManifest, RawImageConfig } from '../tools/images';
import type { PreparedBuild } from './prepare';
import { changedEntries } from './incremental-diff';
import { extractLayers, extractLimits } from '../tools/layers/layer-extractor';
import { isPlainEntryName, scanCatalogLayer, writeChangeLayer, type LayerBlob } from './incremental-layer';
import { isBinaryless } from './binary-image';
import type { ServeCache } from './serve-cache';
import type { IndexCommand } from './serve-command';

/** What the image starts with and carries beyond /configs; a layer must give what a full rebuild gives. */
export interface IndexExtras {
  /** ENTRYPOINT and CMD of the built image; undefined for a binaryless catalog. */
  command?: IndexCommand;
  /** Where the serve cache goes in the image, when the build makes one (replaced as a whole in the layer). */
  cacheDir?: string;
}

const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface ArchPlan {
  arch: string;
  from: ArchImage;
  /** The binary image's runtime config: what `FROM binary` starts a full rebuild with. */
  base: RawImageConfig['config'];
  /** Directory holding blobs of `from` already on this machine (dir: layout), if any. */
  localBlobs: string | undefined;
}

export type IncrementalPlan =
  | { kind: 'full'; reason: string }
  | {
      kind: 'incremental';
      /** Top-level /configs entries the layer carries (or whites out). */
      changed: string[];
      /** Of those, the ones that differ from the from index but the pipeline did not report. */
      unreported: string[];
      catalogLayers: number;
      arches: ArchPlan[];
      extras: IndexExtras;
      /** The from index carries files in `extras.cacheDir` above its base (an older cache). */
      cacheAbove: boolean;
    };

function isOci(m: ImageManifest): boolean {
  return m.mediaType === OCI_MANIFEST || (m.mediaType === undefined && m.config.mediaType.includes('oci'));
}

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

async function hasBlobs(dir: string, digests: string[]): Promise<boolean> {
  const files = new Set(await readdir(dir).catch(() => [] as string[]));
  return digests.every((d) => files.has(hex(d)));
}

interface ArchPair {
  arch: string;
  from: ArchImage;
  binary: ArchImage;
}

/** A full rebuild, and why. */
interface Full {
  kind: 'full';
  reason: string;
}

const full = (reason: string): Full => ({ kind: 'full', reason });

/**
 * Decides between one layer over the from index and a full rebuild. The
 * layer route needs: the option on, the changed packages known, the from
 * index being the binary image (same layers, per arch) plus layers that only
 * touch /configs, gzip layers, and fewer catalog layers than the limit.
 */
export async function planIncremental(
  ctx: BuildContext,
  prepared: PreparedBuild,
  configsDir: string,
  changed: ReadonlySet<string> | undefined,
  extras: IndexExtras = {},
): Promise<IncrementalPlan> {
  const refused = refusedUpFront(ctx, prepared, changed);
  if (refused || !changed) return full(refused ?? 'the request did not say which packages changed');
  const layers = await catalogLayersOf(ctx, prepared);
  if (layers.kind === 'full') return layers;
  const { pairs, catalogLayers, first } = layers;
  const above = await scanLayersAbove(ctx, first, extras);
  if (above.kind === 'full') return above;
  const { layout, cacheAbove } = above;
  const before = path.join(ctx.workDir, 'incremental', 'from-index-root');
  await extractLayers(
    first.from.manifest.layers.map((l) => path.join(layout, hex(l.digest))),
    'configs',
    before,
    extractLimits(ctx.config),
  );
  const differ = await changedEntries(path.join(before, 'configs'), configsDir);
  const unreported = [...differ].filter((n) => !changed.has(n)).sort();
  const all = [...new Set([...changed, ...differ])].sort();
  const now = await readdir(configsDir);
  if (now.length > 0 && now.every((n) => all.includes(n))) {
    return full(`every /configs entry changed (${now.length})`);
  }
  return {
    kind: 'incremental',
    changed: all,
    unreported,
    catalogLayers,
    extras,
    cacheAbove,
    arches: pairs.map(({ arch, from, binary }) => ({
      arch,
      from,
      base: binary.config.config,
      localBlobs: arch === first.arch ? layout : undefined,
    })),
  };
}

/** Why the request alone rules the layer route out (settings, changed names, arches), if it does. */
function refusedUpFront(
  ctx: BuildContext,
  prepared: PreparedBuild,
  changed: ReadonlySet<string> | undefined,
): string | undefined {
  if (!ctx.config.incrementalPush) return 'incremental push is off (IIB_INCREMENTAL_PUSH)';
  if (!changed) return 'the request did not say which packages changed';
  const odd = [...changed].sort().find((n) => !isPlainEntryName(n));
  if (odd !== undefined) return `"${odd}" is not a top-level /configs entry`;
  if (prepared.configsPath.replace(/^\/+|\/+$/g, '') !== 'configs') {
    return `the from index keeps its catalog in ${prepared.configsPath}, not /configs`;
  }
  const missing = prepared.arches.filter((a) => !prepared.fromIndex.arches.includes(a));
  if (missing.length > 0) return `the from index has no image for ${missing.join(', ')}`;
  return undefined;
}

/**
 * Each arch's from index and binary image, checked to be the binary's layers
 * plus gzip catalog layers, the same catalog on every arch, below the limit.
 */
async function catalogLayersOf(
  ctx: BuildContext,
  prepared: PreparedBuild,
): Promise<Full | { kind: 'layers'; pairs: ArchPair[]; catalogLayers: number; first: ArchPair }> {
  const [froms, binaries] = await Promise.all([
    ctx.images.archImages(prepared.fromIndex.resolved, prepared.arches),
    isBinaryless(prepared.binary)
      ? prepared.arches.map(emptyBase)
      : ctx.images.archImages(prepared.binary.resolved, prepared.arches),
  ]);
  const pairs = prepared.arches.map((arch, i) => ({
    arch,
    from: froms[i] as ArchImage,
    binary: binaries[i] as ArchImage,
  }));
  let catalogLayers = 0;
  for (const { arch, from, binary } of pairs) {
    const fromIds = from.config.rootfs?.diff_ids ?? [];
    const baseIds = binary.config.rootfs?.diff_ids ?? [];
    if (from.manifest.layers.length !== fromIds.length) {
      return full(`the ${arch} from index manifest and config disagree on its layers`);
    }
    const odd = from.manifest.layers.find((l) => l.mediaType !== DOCKER_LAYER && l.mediaType !== OCI_LAYER);
    if (odd) return full(`the ${arch} from index has a ${odd.mediaType} layer`);
    if (baseIds.length > fromIds.length || baseIds.some((id, i) => fromIds[i] !== id)) {
      return full(`the binary image is not the base of the ${arch} from index (the base changed)`);
    }
    catalogLayers = Math.max(catalogLayers, fromIds.length - baseIds.length);
  }
  const max = ctx.config.incrementalMaxLayers;
  if (catalogLayers >= max) {
    return full(
      `squashing: the from index already carries ${catalogLayers} catalog layers (IIB_INCREMENTAL_MAX_LAYERS=${max})`,
    );
  }
  // Every arch must carry the same catalog, so one arch's tree stands for all.
  const aboveIds = pairs.map(({ from, binary }) =>
    (from.config.rootfs?.diff_ids ?? []).slice(binary.config.rootfs?.diff_ids?.length ?? 0).join(','),
  );
  if (new Set(aboveIds).size > 1) return full('the arches of the from index carry different catalogs');
  const first = pairs[0];
  if (!first) return full('no arches to build');
  return { kind: 'layers', pairs, catalogLayers, first };
}

/**
 * The from index's layers on this machine (those the extraction left, or a
 * fresh copy), with the layers above the base checked to hold only what a
 * full rebuild would give.
 */
async function scanLayersAbove(
  ctx: BuildContext,
  first: ArchPair,
  extras: IndexExtras,
): Promise<Full | { kind: 'scanned'; layout: string; cacheAbove: boolean }> {
  const allLayers = first.from.manifest.layers.map((l) => l.digest);
  let layout = path.join(ctx.workDir, `image-${first.arch}`);
  if (!(await hasBlobs(layout, allLayers))) {
    layout = path.join(ctx.workDir, 'incremental', `from-${first.arch}`);
    await mkdir(path.dirname(layout), { recursive: true });
    await ctx.images.copyToDir(first.from.resolved, layout);
  }
  // Layers above the base must hold /configs only, or the serve cache this
  // build replaces as a whole: a full rebuild would drop anything else (the
  // hidden database, a cache elsewhere), and a stale cache left beside a new
  // catalog is worse than none. Their catalog must have the modes we ship:
  // the new cache is made from the local copy, modes included.
  let cacheAbove = false;
  for (const digest of allLayers.slice(first.binary.manifest.layers.length)) {
    const scan = await scanCatalogLayer(
      path.join(layout, hex(digest)),
      ctx.config.maxLayerReadBytes,
      extras.cacheDir,
    );
    cacheAbove ||= scan.inCache === true;
    if (scan.outside !== undefined) {
      return full(`the from index has files outside /configs above the binary image (${scan.outside})`);
    }
    if (scan.oddMode !== undefined) {
      return full(`the from index's /configs has modes other than 0755/0644 (${scan.oddMode})`);
    }
  }
  return { kind: 'scanned', layout, cacheAbove };
}

function describe(names: string[]): string {
  const shown = names.slice(0, 10).join(', ');
  return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}

/** A binaryless build's base: no layers, no runtime config. */
function emptyBase(arch: string): ArchImage {
  return {
    resolved: 'scratch',
    digest: '',
    manifest: { schemaVersion: 2, config: { mediaType: '', size: 0, digest: '' }, layers: [] },
    config: { architecture: arch, config: {}, rootfs: { type: 'layers', diff_ids: [] } },
  };
}

function newConfig(
  from: RawImageConfig,
  base: RawImageConfig['config'],
  command: IndexCommand | undefined,
  labels: Record<string, string>,
  layer: LayerBlob,
  what: string,
): RawImageConfig {
  const cfg = structuredClone(from);
  // Docker's record of the build container of the from index's last step.
  delete cfg.container;
  delete cfg.container_config;
  delete cfg.parent;
  const created = new Date().toISOString();
  cfg.created = created;
  // The binary's runtime config with the Dockerfile's changes, as a full
  // rebuild has it: nothing the from index's own build set leaks through.
  const runtime: NonNullable<RawImageConfig['config']> = { ...(base ?? {}) };
  delete runtime.Entrypoint;
  delete runtime.Cmd;
  cfg.config = {
    ...runtime,
    ...(command ? { Entrypoint: [...command.entrypoint], Cmd: [...command.cmd] } : {}),
    Labels: { ...(base?.Labels ?? {}), ...labels },
  };
  cfg.rootfs = { type: 'layers', diff_ids: [...(from.rootfs?.diff_ids ?? []), layer.diffId] };
  cfg.history = [...(from.history ?? []), { created, created_by: what, comment: 'iib: changed packages' }];
  return cfg;
}

async function linkBlob(src: string, dest: string): Promise<void> {
  await link(src, dest).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') return;
    if (err.code !== 'EXDEV') throw err;
    await copyFile(src, dest);
  });
}

/**
 * Builds each arch as its from index plus one layer of the changed packages
 * and pushes it with `skopeo copy dir:`; returns the pushed references. Only
 * the new layer, the config and the manifest cross the wire: the old layers
 * are already in the destination repository or mounted from the from index's.
 */
export async function pushIncremental(
  ctx: BuildContext,
  plan: Extract<IncrementalPlan, { kind: 'incremental' }>,
  configsDir: string,
  labels: Record<string, string>,
  cache?: ServeCache,
): Promise<string[]> {
  const work = path.join(ctx.workDir, 'incremental');
  await mkdir(work, { recursive: true });
  const layerFile = path.join(work, 'layer.tar.gz');
  const layer = await trace
    .getTracer('iib-builder')
    .startActiveSpan('iib.incremental.layer', async (span) => {
      try {
        const blob = await writeChangeLayer(configsDir, plan.changed, layerFile, cache);
        span.setAttributes({
          'iib.incremental.packages': plan.changed.length,
          'iib.incremental.layer_bytes': blob.size,
        });
        return blob;
      } finally {
        span.end();
      }
    });
  ctx.reporter.log(
    `layer of ${plan.changed.length} changed packages: ${layer.digest}, ${layer.size} bytes (${describe(plan.changed)})`,
  );
  const what = `iib request ${ctx.event.id}: /configs ${describe(plan.changed)}`;
  return Promise.all(
    plan.arches.map(async ({ arch, from, base, localBlobs }) => {
      const dir = path.join(work, arch);
      await mkdir(dir, { recursive: true });
      const config = Buffer.from(
        JSON.stringify(newConfig(from.config, base, plan.extras.command, labels, layer, what)),
      );
      const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
      const manifest: ImageManifest = {
        ...from.manifest,
        config: { ...from.manifest.config, size: config.length, digest: configDigest },
        layers: [
          ...from.manifest.layers,
          {
            mediaType: isOci(from.manifest) ? OCI_LAYER : DOCKER_LAYER,
            size: layer.size,
            digest: layer.digest,
          },
        ],
      };
      await writeFile(path.join(dir, 'version'), 'Directory Transport Version: 1.1\n');
      await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
      await writeFile(path.join(dir, hex(configDigest)), config);
      await linkBlob(layerFile, path.join(dir, hex(layer.digest)));
      const oldLayers = from.manifest.layers.map((l) => l.digest);
      const addLocal = async (src: string): Promise<void> => {
        const have = new Set(await readdir(src).catch(() => [] as string[]));
        for (const d of oldLayers)
          if (have.has(hex(d))) await linkBlob(path.join(src, hex(d)), path.join(dir, hex(d)));
      };
      if (localBlobs) await addLocal(localBlobs);
      const dest = `${ctx.registry}/iib-build:${ctx.event.id}-${arch}`;
      try {
        await ctx.images.pushDir(dir, dest);
      } catch (err) {
        if (await hasBlobs(dir, oldLayers)) throw err;
        // The registry could not reuse a layer we have no copy of (another
        // registry, or one this machine never saw): fetch them and push again.
        ctx.reporter.log(`the ${arch} from index layers are not reusable in place; fetching them to push`);
        const fetched = path.join(work, `fetched-${arch}`);
        await ctx.images.copyToDir(from.resolved, fetched);
        await addLocal(fetched);
        await ctx.images.pushDir(dir, dest);
      }
      return dest;
    }),
  );
}

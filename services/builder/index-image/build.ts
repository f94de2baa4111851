import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { RawImageConfig } from '../tools/images';
import type { BuildContext } from '../workspace/build-context';
import { isBinaryless } from './binary-image';
import { planIncremental, pushIncremental } from './incremental';
import { normalizeCatalogModes } from './incremental-layer';
import { LABEL_CONFIGS, LABEL_OCP_VERSION, LABEL_SCOPE, type PreparedBuild } from './prepare';
import { makeServeCache, type ServeCache } from './serve-cache';
import { builderArch, cacheDirOf, indexCommand, type IndexCommand } from './serve-command';

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

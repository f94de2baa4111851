import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../shared/errors';
import { BuildContext, LABEL_CONFIGS, LABEL_OCP_VERSION, LABEL_SCOPE } from './build-context';
import type { ResolvedImage } from './images';

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
  const fromRef = ctx.params.from_index as string;
  await ctx.reporter.progress('Resolving the container images');
  const fromIndex = await ctx.images.resolve(fromRef);
  const arches = [...new Set([...fromIndex.arches, ...addArches])].sort();
  const labels = await ctx.images.labels(fromIndex.resolved, fromIndex.arches[0]);
  const configsPath = labels[LABEL_CONFIGS];
  if (!configsPath) {
    throw new ValidationError(
      `The index image ${fromRef} is not a file-based catalog (it has no ${LABEL_CONFIGS} label); SQLite indexes are not supported`,
    );
  }
  const ocpVersion = labels[LABEL_OCP_VERSION] ?? 'v4.5';
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
  const binary = await ctx.images.resolve(binaryRef);
  const missing = arches.filter((a) => !binary.arches.includes(a));
  if (missing.length > 0) {
    throw new ValidationError(
      `The binary image ${binaryRef} is not available for the following arches: ${missing.join(', ')}`,
    );
  }
  return { fromIndex, binary, arches, ocpVersion, distributionScope: requested, configsPath };
}

function dockerfile(binary: string, labels: Record<string, string>): string {
  const lines = [
    `FROM ${binary}`,
    'ENTRYPOINT ["/bin/opm"]',
    'CMD ["serve", "/configs", "--cache-dir=/tmp/cache"]',
    'ADD configs /configs',
    ...Object.entries(labels).map(([k, v]) => `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Builds `FROM binary` + `/configs` for every arch, pushes each, then the
 * manifest list `<registry>/iib-build:<id>` (and the build tags).
 */
export async function buildAndPushIndex(
  ctx: BuildContext,
  prepared: PreparedBuild,
  contextDir: string,
  extraLabels: Record<string, string>,
  buildTags: string[] = [],
): Promise<{ index_image: string; index_image_resolved: string }> {
  const id = ctx.event.id;
  const labels = {
    [LABEL_CONFIGS]: '/configs',
    [LABEL_OCP_VERSION]: prepared.ocpVersion,
    [LABEL_SCOPE]: prepared.distributionScope,
    ...extraLabels,
  };
  const dockerfilePath = path.join(contextDir, 'index.Dockerfile');
  await mkdir(path.join(contextDir, 'configs'), { recursive: true });
  await writeFile(dockerfilePath, dockerfile(prepared.binary.resolved, labels));
  const pushed: string[] = [];
  for (const arch of prepared.arches) {
    const local = `iib-build:${id}-${arch}`;
    ctx.localTags.push(local);
    await ctx.buildah.buildArch({ contextDir, dockerfile: dockerfilePath, tag: local, arch });
    const remote = `${ctx.registry}/iib-build:${id}-${arch}`;
    await ctx.buildah.push(local, remote);
    pushed.push(remote);
  }
  await ctx.reporter.progress('Creating the manifest list');
  const output = `${ctx.registry}/iib-build:${id}`;
  const dests = [output, ...buildTags.map((t) => `${ctx.registry}/iib-build:${t}`)];
  await ctx.buildah.pushManifestList(`iib-build-${id}-list`, pushed, dests);
  const resolved = await ctx.images.resolve(output);
  return { index_image: output, index_image_resolved: resolved.resolved };
}

import { ValidationError } from '../../../shared/errors';
import type { ResolvedImage } from '../tools/images';
import type { BuildContext } from '../workspace/build-context';
import { resolveBinary } from './binary-image';

export const LABEL_CONFIGS = 'operators.operatorframework.io.index.configs.v1';
export const LABEL_OCP_VERSION = 'com.redhat.index.delivery.version';
export const LABEL_SCOPE = 'com.redhat.index.delivery.distribution_scope';

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

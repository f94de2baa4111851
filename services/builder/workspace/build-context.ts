import type { Logger } from 'pino';
import type { BuilderConfig } from '../../../shared/config';
import type { BuildRequestEvent } from '../../../shared/contracts';
import type { Buildah } from '../tools/buildah';
import type { CommandRunner } from '../tools/command-runner';
import type { Images } from '../tools/images';
import type { Reporter } from '../lane/reporter';

/** Secrets of one request, opened from the event's sealed_secrets. Never logged. */
export interface RequestSecrets {
  /** `user:password` for the from_index (or target_index) repository, used only to overwrite it. */
  overwrite_from_index_token?: string;
  overwrite_target_index_token?: string;
  /** Docker config `auths` entries for pulling the bundle images (regenerate-bundle). */
  registry_auths?: { auths?: Record<string, { auth?: string }> };
}

/** The builder settings a pipeline reads. */
export type PipelineConfig = Pick<
  BuilderConfig,
  | 'registry'
  | 'binaryImageConfig'
  | 'requiredLabels'
  | 'indexImageOutputRegistry'
  | 'organizationCustomizations'
  | 'relatedImageRegistryReplacement'
  | 'noOcpLabelAllowList'
  | 'maxRecursiveRelatedBundles'
  | 'maxExtractBytes'
  | 'maxLayerReadBytes'
  | 'maxExtractFileBytes'
  | 'maxExtractFiles'
  | 'maxLayerEntries'
  | 'incrementalPush'
  | 'incrementalMaxLayers'
>;

/** Everything one request's pipeline may use; built per request by the build handler. */
export interface BuildContext {
  event: BuildRequestEvent;
  params: Record<string, unknown>;
  secrets: RequestSecrets;
  /** The request's own directory, removed afterwards. */
  workDir: string;
  reporter: Reporter;
  /** skopeo with the request's pull credentials (its own auth file in workDir, if any). */
  images: Images;
  buildah: Buildah;
  /** The command runner (secrets of this request masked). */
  runner: CommandRunner;
  /** Auth file for pulls: the builder's template merged with registry_auths; undefined if neither. */
  authFile: string | undefined;
  config: PipelineConfig;
  /** Registry the iib-build images are pushed to (= config.registry). */
  registry: string;
  binaryImageConfig: Record<string, Record<string, string>> | undefined;
  log: Logger;
  /** Local image tags created by this request, removed afterwards. */
  localTags: string[];
}

export type Pipeline = (ctx: BuildContext) => Promise<void>;

export const LABEL_CONFIGS = 'operators.operatorframework.io.index.configs.v1';
export const LABEL_OCP_VERSION = 'com.redhat.index.delivery.version';
export const LABEL_SCOPE = 'com.redhat.index.delivery.distribution_scope';
export const LABEL_BUNDLE_PACKAGE = 'operators.operatorframework.io.bundle.package.v1';
export const LABEL_PINNED = 'com.redhat.iib.pinned';

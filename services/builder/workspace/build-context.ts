import type { Logger } from 'pino';
import type { BuilderConfig } from '../../../shared/config';
import type { BuildRequestEvent } from '../../../shared/contracts';
import type { ImageBuilder, Registry, RequestReporter } from './tools';

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

/** Everything one request's pipeline may use; opened per request by the request workspace. */
export interface BuildContext {
  event: BuildRequestEvent;
  params: Record<string, unknown>;
  secrets: RequestSecrets;
  /** The request's own directory, removed afterwards. */
  workDir: string;
  reporter: RequestReporter;
  /** skopeo with the request's pull credentials (its own auth file in workDir, if any). */
  images: Registry;
  buildah: ImageBuilder;
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

import type { Logger } from 'pino';
import type { BuildRequestEvent } from '../../shared/contracts';
import type { Buildah } from './buildah';
import type { Images } from './images';
import type { Reporter } from './reporter';

/** Everything one request's pipeline may use; built per request by the build handler. */
export interface BuildContext {
  event: BuildRequestEvent;
  params: Record<string, unknown>;
  /** The request's own directory, removed afterwards. */
  workDir: string;
  reporter: Reporter;
  images: Images;
  buildah: Buildah;
  /** Registry the iib-build images are pushed to. */
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

import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { errorMessage, ValidationError } from '../../../shared/errors';
import { isRetryable } from '../../../shared/messaging';
import { LABEL_OPERATOR_BUNDLE, yamlTrue } from './bundle-labels';
import { withDigest } from '../tools/image-ref';
import type { ResolvedImage } from '../tools/images';
import type { Registry } from '../workspace/tools';

/**
 * The registry look-ups of a bundle request, each done once per request
 * (a pull spec often appears in several places of a CSV), with failures
 * that name the image the user has to fix.
 */
export class BundleImages {
  private readonly digests = new Map<string, Promise<string>>();
  private readonly labelCache = new Map<string, Promise<Record<string, string>>>();
  private extracted = 0;

  constructor(
    private readonly images: Registry,
    private readonly workDir: string,
  ) {}

  /** repo@sha256 of the manifest (list) a pull spec points at; IIB's get_resolved_image. */
  resolvePullSpec(ref: string): Promise<string> {
    let p = this.digests.get(ref);
    if (!p) {
      p = this.images
        .rawManifest(ref)
        .then((m) => withDigest(ref, m.digest))
        .catch((err: unknown) => {
          throw inspectFailed(ref, err);
        });
      this.digests.set(ref, p);
    }
    return p;
  }

  /** Labels of the image (the builder's arch of a manifest list). */
  labels(ref: string): Promise<Record<string, string>> {
    let p = this.labelCache.get(ref);
    if (!p) {
      p = this.images.labels(ref).catch((err: unknown) => {
        throw inspectFailed(ref, err);
      });
      this.labelCache.set(ref, p);
    }
    return p;
  }

  /** IIB's _is_bundle_image: label com.redhat.delivery.operator.bundle is YAML true. */
  async isBundle(ref: string): Promise<boolean> {
    return yamlTrue((await this.labels(ref))[LABEL_OPERATOR_BUNDLE]);
  }

  async resolve(ref: string): Promise<ResolvedImage> {
    return this.images.resolve(ref).catch((err: unknown) => {
      throw inspectFailed(ref, err);
    });
  }

  /**
   * Extracts /manifests and /metadata of one arch of a bundle into
   * `<dest>/manifests` and `<dest>/metadata` (both created, maybe empty).
   */
  async extractBundle(ref: string, arch: string, dest: string): Promise<void> {
    for (const dir of ['manifests', 'metadata']) {
      this.extracted += 1;
      const layout = path.join(this.workDir, `layout-${this.extracted}`);
      await mkdir(layout, { recursive: true });
      await this.images.extract(ref, arch, dir, layout, dest);
      await mkdir(path.join(dest, dir), { recursive: true });
    }
  }
}

/** IIB's skopeo failure text, with the tool's own error line. */
function inspectFailed(ref: string, err: unknown): unknown {
  if (isRetryable(err)) return err;
  return new ValidationError(
    `Failed to inspect docker://${ref}. Make sure it exists and is accessible to IIB: ${errorMessage(err)}`,
  );
}

/** The arch whose files are read: amd64 when the image has it (IIB pulls the worker's arch). */
export function readingArch(arches: string[]): string {
  return arches.includes('amd64') ? 'amd64' : (arches[0] ?? 'amd64');
}

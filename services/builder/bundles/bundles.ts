import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../../shared/errors';
import type { BuildContext } from '../workspace/build-context';
import { LABEL_BUNDLE_PACKAGE } from './bundle-labels';
import { bundleBlob, parseBundleDir, type Catalog } from '@iib-ts/catalog';
import { repoOf, withDigest } from '../tools/image-ref';
import { manifestKind } from '../tools/images';

/** A bundle of an add request, pinned to a digest, with the labels of its image. */
export interface ResolvedBundle {
  /** The pull spec as the user gave it. */
  ref: string;
  /** `repo@sha256:...`, what the catalog records as the bundle's image. */
  resolved: string;
  labels: Record<string, string>;
}

/**
 * IIB's get_resolved_bundles: a manifest list resolves to its first
 * manifest's digest, a v2s2 manifest to its own digest; anything else is
 * refused with IIB's message. Beyond IIB, an OCI image index counts as a
 * list and an OCI image manifest as a manifest (docs/builder.md). Duplicates (two specs of one digest) collapse.
 */
export async function resolveBundles(ctx: BuildContext, refs: readonly string[]): Promise<ResolvedBundle[]> {
  const out: ResolvedBundle[] = [];
  for (const ref of refs) {
    const m = await ctx.images.rawManifest(ref);
    const raw = m.json as { mediaType?: string; schemaVersion?: number; manifests?: { digest?: string }[] };
    let resolved: string;
    const kind = manifestKind(m.mediaType, m.json);
    if (kind === 'list' && raw.manifests?.[0]?.digest) {
      resolved = `${repoOf(ref)}@${raw.manifests[0].digest}`;
    } else if (kind === 'image') {
      resolved = withDigest(ref, m.digest);
    } else {
      throw new ValidationError(
        `The pull specification of ${ref} is neither a v2 manifest list nor a v2s2 manifest. ` +
          `Type ${m.mediaType ?? 'None'} and schema version ${raw.schemaVersion ?? 'None'} is not supported by IIB.`,
      );
    }
    if (out.some((b) => b.resolved === resolved)) continue;
    out.push({ ref, resolved, labels: await ctx.images.labels(resolved) });
  }
  return out;
}

/** IIB's verify_labels: every bundle carries each configured label with its value. */
export function verifyRequiredLabels(
  bundles: readonly ResolvedBundle[],
  required: Record<string, string>,
): void {
  for (const b of bundles) {
    for (const [label, value] of Object.entries(required)) {
      if (b.labels[label] !== value) {
        throw new ValidationError(`The bundle ${b.resolved} does not have the label ${label}=${value}`);
      }
    }
  }
}

/** IIB's bundle_mapping: package (bundle label) -> the requested pull specs, in request order. */
export function bundleMapping(bundles: readonly ResolvedBundle[]): Record<string, string[]> {
  const mapping: Record<string, string[]> = {};
  for (const b of bundles) {
    const pkg = b.labels[LABEL_BUNDLE_PACKAGE];
    if (pkg) (mapping[pkg] ??= []).push(b.ref);
  }
  return mapping;
}

/**
 * The bundle images' contents (`/manifests`, `/metadata`), each extracted
 * once into the request's directory through the layer checks of
 * Images.extract (no path escapes, no outside links, a size limit).
 */
export class BundleFiles {
  private readonly dirs = new Map<string, Promise<string>>();
  private readonly names = new Map<string, string>();
  constructor(private readonly ctx: BuildContext) {}

  /**
   * An error about a bundle's files names the bundle image, not the
   * request's scratch directory (which is gone by the time a user reads it).
   */
  userMessage(message: string): string {
    let out = message;
    for (const [dir, image] of this.names)
      out = out.split(`${dir}/`).join(`${image}:/`).split(dir).join(image);
    return out;
  }

  dirOf(bundle: ResolvedBundle): Promise<string> {
    let dir = this.dirs.get(bundle.resolved);
    if (!dir) {
      dir = this.extract(bundle, this.dirs.size);
      this.dirs.set(bundle.resolved, dir);
    }
    return dir;
  }

  private async extract(bundle: ResolvedBundle, n: number): Promise<string> {
    const dest = path.join(this.ctx.workDir, 'bundles', String(n));
    // Its own layout dir: `<workDir>/image-<arch>` holds the from index's layers, which the build reuses.
    const layoutParent = path.join(this.ctx.workDir, 'bundles', `layout-${n}`);
    await mkdir(dest, { recursive: true });
    await mkdir(layoutParent, { recursive: true });
    // A resolved bundle is a single manifest, so the arch only matters to skopeo's syntax.
    this.names.set(dest, bundle.resolved);
    await this.ctx.images.extract(bundle.resolved, 'amd64', '', layoutParent, dest);
    return dest;
  }
}

/** Python's repr of a list of strings, as IIB prints it in its messages. */
function pyList(items: readonly string[]): string {
  return `[${items.map((i) => `'${i}'`).join(', ')}]`;
}

/**
 * IIB's inspect_related_images: every image the bundle's CSV names (related
 * images, deployment containers) must be inspectable; all the missing ones
 * are listed in one error.
 */
export async function checkRelatedImages(
  ctx: BuildContext,
  bundles: readonly ResolvedBundle[],
  files: BundleFiles,
): Promise<void> {
  const missing: string[] = [];
  for (const b of bundles) {
    const parsed = await parseBundleDir(await files.dirOf(b));
    const images = (bundleBlob(parsed, b.resolved).relatedImages ?? [])
      .map((ri) => ri.image)
      .filter((img) => img !== '' && img !== b.resolved);
    for (const img of images) {
      if (missing.includes(img)) continue;
      try {
        await ctx.images.rawManifest(img);
      } catch (err) {
        ctx.log.info({ image: img, err: (err as Error).message }, 'related image not accessible');
        missing.push(img);
      }
    }
  }
  if (missing.length > 0) {
    throw new ValidationError(`IIB cannot access the following related images ${pyList(missing)}`);
  }
}

/**
 * IIB's _get_missing_bundles: a bundle is present when the catalog holds
 * its exact digest pull spec, or the same digest under another repository.
 */
export function splitPresent(
  catalog: Catalog,
  bundles: readonly ResolvedBundle[],
): { missing: ResolvedBundle[]; present: ResolvedBundle[] } {
  const images: string[] = [];
  for (const block of catalog.packages.values()) {
    for (const b of block.bundles) if (b.image.includes('@sha256:')) images.push(b.image);
  }
  const missing: ResolvedBundle[] = [];
  const present: ResolvedBundle[] = [];
  for (const b of bundles) {
    const hash = b.resolved.split('@sha256:').pop() ?? '';
    const found = images.some((img) => img === b.resolved || img.includes(hash));
    (found ? present : missing).push(b);
  }
  return { missing, present };
}

/** Every bundle image the catalog holds (IIB's present_bundles_pull_spec). */
export function catalogBundleImages(catalog: Catalog): string[] {
  const out: string[] = [];
  for (const block of catalog.packages.values()) for (const b of block.bundles) out.push(b.image);
  return out;
}

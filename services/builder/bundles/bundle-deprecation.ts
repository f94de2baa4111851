/**
 * Deprecating bundles as IIB does for merge-index-image: only the latest
 * version per package is passed on (get_bundles_latest_version), then
 * `opm registry deprecatetruncate --allow-package-removal`: a package whose
 * default-channel head is deprecated is removed whole, provided the heads of
 * all its channels are deprecated too; the rest is truncated as usual.
 */
import { compare, valid } from 'semver';
import { ValidationError } from '../../../shared/errors';
import {
  aggregateMessages,
  bundleVersion,
  channelHeads,
  deprecateBundles,
  type BundleBlob,
  type Catalog,
} from '@iib-ts/catalog';

/** The bundle of each package with the highest version among `images` (IIB's order: sorted pull specs). */
export function latestPerPackage(images: readonly string[], all: readonly BundleBlob[]): string[] {
  const latest = new Map<string, { version: string; image: string }>();
  const wanted = new Set(images);
  const known = new Set<string>();
  for (const b of all) {
    if (!wanted.has(b.image)) continue;
    known.add(b.image);
    const version = valid(bundleVersion(b)) ?? '0.0.0';
    const cur = latest.get(b.package);
    if (!cur || compare(version, cur.version) >= 0) latest.set(b.package, { version, image: b.image });
  }
  const missing = [...wanted].filter((i) => !known.has(i)).sort();
  if (missing.length > 0) {
    throw new ValidationError(
      `Failed to retrieve bundles by semver, missing bundle images: [${missing.map((m) => `'${m}'`).join(', ')}]`,
    );
  }
  return [...latest.values()].map((v) => v.image).sort();
}

export interface DeprecationResult {
  dirty: Set<string>;
  removed: Set<string>;
}

export function deprecateAllowingPackageRemoval(
  catalog: Catalog,
  images: readonly string[],
): DeprecationResult {
  const where = new Map<string, { pkg: string; name: string }>();
  for (const block of catalog.packages.values()) {
    for (const b of block.bundles) where.set(b.image, { pkg: block.name, name: b.name });
  }
  const imageOf = (pkg: string, name: string): string =>
    catalog.packages.get(pkg)?.bundles.find((b) => b.name === name)?.image ?? name;
  const packages: string[] = [];
  for (const image of images) {
    const at = where.get(image);
    const block = at && catalog.packages.get(at.pkg);
    if (!at || !block) continue;
    const def = block.channels.filter((c) => c.name === block.package?.defaultChannel);
    const heads = [...channelHeads(def).values()].flat();
    if (heads.includes(at.name) && !packages.includes(at.pkg)) packages.push(at.pkg);
  }
  const errors: string[] = [];
  for (const pkg of packages) {
    const block = catalog.packages.get(pkg)!;
    for (const [channel, heads] of [...channelHeads(block.channels)].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const head = imageOf(pkg, heads[0] ?? '');
      if (!images.includes(head)) {
        errors.push(
          `cannot deprecate default channel head from package without removing all other channel heads in package ${pkg}: must deprecate ${head}, head of channel ${channel}`,
        );
      }
    }
  }
  const message = aggregateMessages(errors);
  if (message) throw new ValidationError(`Failed to deprecate the bundles: ${message}`);
  const removed = new Set(packages);
  const next = new Map(catalog.packages);
  for (const pkg of removed) next.delete(pkg);
  catalog.packages = next;
  const rest = images.filter((i) => {
    const at = where.get(i);
    return at !== undefined && !removed.has(at.pkg);
  });
  const dirty = rest.length > 0 ? deprecateBundles(catalog, rest) : new Set<string>();
  return { dirty, removed };
}

/**
 * IIB's merge-index-image: every bundle of the source catalog that the target
 * lacks (same image, or same CSV name) is added to the target with `opm
 * registry add`, oldest version first so replaces chains build up in order.
 */
import { addRenderedBundles, type AddMode, type AddResult, type RenderedBundle } from './add';
import type { ParsedBundle } from './bundle';
import type { BundleBlob, Catalog } from './fbc';
import { bundleVersion } from './fbc';
import { loadPackageState, type RegBundle } from './registry-state';
import { parseVersion } from './versions';

function parsedFromBlob(blob: BundleBlob, reg: RegBundle, defaultChannel: string): ParsedBundle {
  return {
    dir: '',
    name: blob.name,
    package: blob.package,
    channels: [...reg.channels],
    defaultChannel,
    objects: [],
    csv: {},
    csvFile: blob.name,
    version: reg.version || bundleVersion(blob),
    replaces: reg.replaces,
    skips: [...reg.skips],
    skipRange: reg.skipRange,
    properties: [],
    dependencies: [],
    warnings: [],
  };
}

/** The bundles of `from` missing in `into`, as bundles ready to add. */
export function missingBundles(from: Catalog, into: Catalog): RenderedBundle[] {
  const images = new Set<string>();
  const names = new Set<string>();
  for (const block of into.packages.values()) {
    for (const b of block.bundles) {
      images.add(b.image);
      names.add(b.name);
    }
  }
  const out: { add: RenderedBundle }[] = [];
  for (const block of from.packages.values()) {
    const state = loadPackageState(block);
    for (const b of block.bundles) {
      const reg = state.bundles.get(b.name);
      if (!reg || images.has(b.image) || names.has(b.name)) continue;
      const parsed = parsedFromBlob(b, reg, block.package?.defaultChannel ?? '');
      out.push({ add: { parsed, blob: b } });
    }
  }
  return out
    .sort((a, b) => {
      if (a.add.parsed.package !== b.add.parsed.package)
        return a.add.parsed.package < b.add.parsed.package ? -1 : 1;
      const va = parseVersion(a.add.parsed.version);
      const vb = parseVersion(b.add.parsed.version);
      return va.ok && vb.ok ? va.version.compare(vb.version) : 0;
    })
    .map((x) => x.add);
}

/**
 * Adds to `into` every bundle of `from` it lacks: one batch in replaces mode
 * (as IIB does), one bundle at a time, lowest version first, in semver modes.
 */
export function mergeCatalogs(from: Catalog, into: Catalog, mode: AddMode): AddResult {
  const missing = missingBundles(from, into);
  if (missing.length === 0) return { dirty: new Set(), warnings: [] };
  if (mode === 'replaces') return addRenderedBundles(into, missing, { mode });
  const result: AddResult = { dirty: new Set(), warnings: [] };
  for (const add of missing) {
    const r = addRenderedBundles(into, [add], { mode });
    for (const p of r.dirty) result.dirty.add(p);
  }
  return result;
}

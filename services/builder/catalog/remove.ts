/** `opm registry rm --packages`: drop whole packages, failing on an unknown one. */
import { opmError } from './errors';
import type { Catalog } from './fbc';

export function removePackages(catalog: Catalog, packages: readonly string[]): Set<string> {
  const next = new Map(catalog.packages);
  const removed = new Set<string>();
  for (const p of packages) {
    const block = next.get(p);
    if (!block || (block.bundles.length === 0 && block.channels.length === 0)) {
      throw opmError(
        `error deleting packages from database: error removing operator package ${p}: no package found for packagename ${p}`,
      );
    }
    next.delete(p);
    removed.add(p);
  }
  catalog.packages = next;
  return removed;
}

import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { serializeBlock, writeCatalog, type Catalog, type PackageBlock } from '@iib-ts/catalog';

/** Where IIB keeps a package's olm.deprecations blob inside /configs. */
export const DEPRECATIONS_DIR = '_operator-deprecations-content';

function inside(parent: string, file: string): boolean {
  const rel = path.relative(parent, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Writes back only the packages an add or rm touched: each touched package
 * directory is replaced by `<package>/catalog.json` (or removed with its
 * deprecations directory), and every other file of the from index's
 * `/configs` stays byte for byte as it was. Returns the top-level `/configs`
 * entries that changed.
 *
 * When a touched package shares a file with another package, or has blobs
 * outside its own directories, a per-directory edit would be wrong; then the
 * whole catalog is rewritten and `undefined` (changes unknown) is returned.
 */
export async function writeTouchedPackages(
  configsDir: string,
  before: ReadonlyMap<string, PackageBlock>,
  catalog: Catalog,
  touched: ReadonlySet<string>,
): Promise<Set<string> | undefined> {
  const ownedBy = new Map<string, string[]>();
  for (const block of before.values()) {
    for (const src of block.sources) ownedBy.set(src, [...(ownedBy.get(src) ?? []), block.name]);
  }
  const local = [...touched].every((pkg) =>
    (before.get(pkg)?.sources ?? []).every(
      (src) =>
        ownedBy.get(src)?.length === 1 &&
        (inside(path.join(configsDir, pkg), src) ||
          inside(path.join(configsDir, DEPRECATIONS_DIR, pkg), src)),
    ),
  );
  if (!local) {
    await writeCatalog(configsDir, catalog, { dirty: touched });
    return undefined;
  }
  const changed = new Set<string>();
  for (const pkg of touched) {
    const block = catalog.packages.get(pkg);
    await rm(path.join(configsDir, pkg), { recursive: true, force: true });
    changed.add(pkg);
    const deprecationsDir = path.join(configsDir, DEPRECATIONS_DIR, pkg);
    const hasDeprecationsFile = (before.get(pkg)?.sources ?? []).some((s) => inside(deprecationsDir, s));
    if (!block) {
      // IIB's remove_operator_deprecations: a removed package takes its deprecations along.
      await rm(deprecationsDir, { recursive: true, force: true });
      if (hasDeprecationsFile) changed.add(DEPRECATIONS_DIR);
      continue;
    }
    // A deprecations file of its own stays where it is; its blobs are not written twice.
    const written: PackageBlock = hasDeprecationsFile
      ? { ...block, others: block.others.filter((o) => o.schema !== 'olm.deprecations') }
      : block;
    await mkdir(path.join(configsDir, pkg), { recursive: true });
    await writeFile(path.join(configsDir, pkg, 'catalog.json'), serializeBlock(written));
  }
  return changed;
}

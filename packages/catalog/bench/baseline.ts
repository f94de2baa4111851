/**
 * The algorithms this package replaced, kept here only as the benchmark's
 * baseline, so the same run shows old and new side by side.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { listCatalogFiles, noteOriginal, writeCatalog } from '../src/catalog-io';
import { emptyCatalog, parseCatalogText, type Catalog } from '../src/fbc';
import { removePackages } from '../src/remove';

/**
 * The old readCatalog: after each file it rebuilt a map of every package read
 * so far to find the ones the file touched, quadratic in the package count.
 */
export async function quadraticReadCatalog(dir: string): Promise<Catalog> {
  const catalog = emptyCatalog();
  for (const rel of (await listCatalogFiles(dir)) ?? []) {
    const full = path.join(dir, rel);
    const text = await fsp.readFile(full, 'utf8');
    const before = new Map([...catalog.packages].map(([k, v]) => [k, v.sources.length]));
    parseCatalogText(catalog, text, full);
    const touched = [...catalog.packages.values()].filter((b) => b.sources.length !== before.get(b.name));
    noteOriginal(touched, rel, full);
  }
  return catalog;
}

/** The old rm: read and parse the whole catalog, drop the packages, write it all back. */
export async function wholeCatalogRemove(dir: string, packages: readonly string[]): Promise<void> {
  const catalog = await quadraticReadCatalog(dir);
  removePackages(catalog, packages);
  await writeCatalog(dir, catalog, { dirty: new Set() });
}

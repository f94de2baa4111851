/**
 * Generated catalogs for the benchmark: the packages of a real catalog (the
 * community-operators subset of the shared fixtures), then copies of them
 * under new names until there are as many packages as asked for, written in
 * the layout of `opm migrate` (one `<package>/catalog.json` each).
 */
import { readCatalog, writeCatalog } from '../src/catalog-io';
import { emptyCatalog, type PackageBlock, type Property } from '../src/fbc';

function renamedProperties(properties: Property[] | undefined, to: string): Property[] | undefined {
  return properties?.map((p) =>
    p.type === 'olm.package' && typeof p.value === 'object' && p.value !== null
      ? { ...p, value: { ...p.value, packageName: to } }
      : p,
  );
}

/** A copy of `block` whose every blob names package `to`; bundle names and images stay. */
function renamed(block: PackageBlock, to: string): PackageBlock {
  const copy = structuredClone(block);
  return {
    name: to,
    package: copy.package && { ...copy.package, name: to },
    channels: copy.channels.map((c) => ({ ...c, package: to })),
    bundles: copy.bundles.map((b) => ({
      ...b,
      package: to,
      properties: renamedProperties(b.properties, to),
    })),
    others: copy.others.map((o) => ({ ...o, package: to })),
    sources: [],
  };
}

/** The name of the `i`th generated package (the sources' own names first). */
export function generatedName(sources: readonly string[], i: number): string {
  const base = sources[i % sources.length]!;
  const round = Math.floor(i / sources.length);
  return round === 0 ? base : `${base}-copy${round}`;
}

/** Writes a catalog of `total` packages into `dest`, from the catalog directory `src`. Returns their names. */
export async function generateCatalog(src: string, dest: string, total: number): Promise<string[]> {
  const source = await readCatalog(src);
  const blocks = [...source.packages.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const sourceNames = blocks.map((b) => b.name);
  const catalog = emptyCatalog();
  for (let i = 0; i < total; i++) {
    const name = generatedName(sourceNames, i);
    catalog.packages.set(name, renamed(blocks[i % blocks.length]!, name));
  }
  await writeCatalog(dest, catalog);
  return [...catalog.packages.keys()];
}

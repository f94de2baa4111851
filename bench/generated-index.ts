import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * A large catalog for the builder benchmark: the fixture catalog's packages,
 * plus copies of them under new names until there are `total` packages. A
 * copy renames the package in every blob that names it (olm.package,
 * channels, bundles and their olm.package property, deprecations); bundle
 * names and images stay, as opm allows the same bundle name in two packages.
 */

type Blob = Record<string, unknown> & { schema?: string };

async function readPackageBlobs(dir: string): Promise<Blob[]> {
  const out: Blob[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const text = await readFile(path.join(dir, file), 'utf8');
    if (file.endsWith('.json')) {
      // A JSON stream: one or more objects one after another.
      for (const part of text.split(/\n(?=\{)/)) if (part.trim()) out.push(JSON.parse(part) as Blob);
    } else if (/\.ya?ml$/.test(file)) {
      for (const doc of parseAllDocuments(text)) {
        const value = doc.toJSON() as Blob | null;
        if (value) out.push(value);
      }
    }
  }
  return out;
}

function renamed(blob: Blob, to: string): Blob {
  const b = structuredClone(blob);
  if (b.schema === 'olm.package') b.name = to;
  else if ('package' in b) b.package = to;
  if (b.schema === 'olm.bundle' && Array.isArray(b.properties)) {
    for (const p of b.properties as { type?: string; value?: { packageName?: string } }[]) {
      if (p.type === 'olm.package' && p.value) p.value.packageName = to;
    }
  }
  return b;
}

/** Writes `total` package directories (JSON) into `dest`, from the fixture catalog `src`. Returns the count. */
export async function writeGeneratedCatalog(src: string, dest: string, total: number): Promise<number> {
  const names = (await readdir(src, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  names.sort();
  const packages = await Promise.all(
    names.map(async (n) => ({ name: n, blobs: await readPackageBlobs(path.join(src, n)) })),
  );
  let written = 0;
  for (let i = 0; written < total; i += 1) {
    const pkg = packages[i % packages.length]!;
    const round = Math.floor(i / packages.length);
    const name = round === 0 ? pkg.name : `${pkg.name}-copy${round}`;
    await mkdir(path.join(dest, name), { recursive: true });
    const blobs = round === 0 ? pkg.blobs : pkg.blobs.map((b) => renamed(b, name));
    await writeFile(
      path.join(dest, name, 'catalog.json'),
      blobs.map((b) => JSON.stringify(b, null, 4)).join('\n') + '\n',
    );
    written += 1;
  }
  return written;
}

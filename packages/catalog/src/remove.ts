/**
 * `opm registry rm --packages`: drop whole packages, failing on an unknown one.
 *
 * `removePackages` edits a catalog in memory. `removePackagesFromDir` edits a
 * catalog directory and, when the layout allows, touches only the removed
 * packages' own directories: it parses those, and reads the other files only
 * as bytes, to make sure none of them names a removed package. Otherwise it
 * reads, edits and rewrites the whole catalog, with the same result and errors.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { listCatalogFiles, readCatalog, writeCatalog } from './catalog-io';
import { CatalogError, opmError } from './errors';
import { emptyCatalog, parseCatalogText, type Catalog } from './fbc';

function noPackage(p: string): CatalogError {
  return opmError(
    `error deleting packages from database: error removing operator package ${p}: no package found for packagename ${p}`,
  );
}

export function removePackages(catalog: Catalog, packages: readonly string[]): Set<string> {
  const next = new Map(catalog.packages);
  const removed = new Set<string>();
  for (const p of packages) {
    const block = next.get(p);
    if (!block || (block.bundles.length === 0 && block.channels.length === 0)) throw noPackage(p);
    next.delete(p);
    removed.add(p);
  }
  catalog.packages = next;
  return removed;
}

export interface RemoveOptions {
  /**
   * Top-level directories holding a `<package>/` directory that belongs to
   * each package (IIB keeps olm.deprecations in `_operator-deprecations-content/<package>/`):
   * removed with the package.
   */
  companionDirs?: readonly string[];
}

export interface RemoveResult {
  removed: Set<string>;
  /** The top-level entries of the catalog directory that changed; undefined when it was rewritten whole. */
  changed: Set<string> | undefined;
}

/**
 * Removes `packages` from the catalog directory `dir`, as `removePackages`
 * followed by `writeCatalog` would, but rewriting nothing else when every blob
 * of each removed package lives in its own directories (`<package>/`, and
 * `<companion>/<package>/`), which hold nothing else: then those directories
 * are removed and every other file stays byte for byte as it was. On failure
 * the directory is left unchanged.
 */
export async function removePackagesFromDir(
  dir: string,
  packages: readonly string[],
  options: RemoveOptions = {},
): Promise<RemoveResult> {
  const plan = await planLocalRemoval(dir, packages, options.companionDirs ?? []);
  if (!plan) {
    const catalog = await readCatalog(dir);
    const removed = removePackages(catalog, packages);
    await writeCatalog(dir, catalog, { dirty: new Set() });
    return { removed, changed: undefined };
  }
  await removeDirs(dir, plan.dirs);
  return { removed: new Set(packages), changed: plan.changed };
}

interface LocalPlan {
  /** Directories to remove, relative to the catalog directory. */
  dirs: string[];
  changed: Set<string>;
}

/** A name that is one directory entry of its own. */
function plainName(p: string): boolean {
  return p !== '' && p !== '.' && p !== '..' && !p.includes('/') && !p.includes('\\');
}

/**
 * How to remove `packages` by their directories alone, or undefined when the
 * layout does not allow it (or something is wrong, which the whole-catalog
 * path then reports as it always did).
 */
async function planLocalRemoval(
  dir: string,
  packages: readonly string[],
  companions: readonly string[],
): Promise<LocalPlan | undefined> {
  if (new Set(packages).size !== packages.length || !packages.every(plainName)) return undefined;
  const files = await listCatalogFiles(dir).catch(() => undefined);
  if (!files) return undefined;
  const homes = new Map(packages.map((p) => [p, [p, ...companions.map((c) => `${c}/${p}`)]]));
  const ownerOf = (rel: string) =>
    packages.find((p) => homes.get(p)!.some((home) => rel.startsWith(`${home}/`)));
  const own = new Map<string, string[]>(packages.map((p) => [p, []]));
  const others: string[] = [];
  for (const rel of files) {
    const owner = ownerOf(rel);
    if (owner === undefined) others.push(rel);
    else own.get(owner)!.push(rel);
  }
  try {
    for (const p of packages) if (!(await holdsOnly(dir, own.get(p)!, p))) return undefined;
    if (await anyNames(dir, others, packages)) return undefined;
  } catch (err) {
    if (err instanceof CatalogError) return undefined;
    throw err;
  }
  const changed = new Set<string>(packages);
  for (const c of companions) {
    if (packages.some((p) => own.get(p)!.some((rel) => rel.startsWith(`${c}/${p}/`)))) changed.add(c);
  }
  return { dirs: [...homes.values()].flat(), changed };
}

/** Whether the files `rels` hold blobs of package `p` alone, with at least one bundle or channel. */
async function holdsOnly(dir: string, rels: readonly string[], p: string): Promise<boolean> {
  const scratch = emptyCatalog();
  for (const rel of rels) {
    const full = path.join(dir, rel);
    parseCatalogText(scratch, await fsp.readFile(full, 'utf8'), full);
  }
  const block = scratch.packages.get(p);
  return (
    scratch.globals.length === 0 &&
    scratch.packages.size === 1 &&
    block !== undefined &&
    (block.bundles.length > 0 || block.channels.length > 0)
  );
}

/** How many files are read at once while looking for a package's name. */
const READ_AHEAD = 16;

/**
 * Whether any of the files `rels` holds a blob of one of `packages`. A file
 * is parsed only when its bytes contain one of the names: a blob names its
 * package literally, as opm and every catalog tool write it.
 */
async function anyNames(dir: string, rels: readonly string[], packages: readonly string[]): Promise<boolean> {
  const needles = packages.map((p) => Buffer.from(p, 'utf8'));
  for (let i = 0; i < rels.length; i += READ_AHEAD) {
    const batch = rels.slice(i, i + READ_AHEAD).map((rel) => path.join(dir, rel));
    const bytes = await Promise.all(batch.map((full) => fsp.readFile(full)));
    for (const [k, buf] of bytes.entries()) {
      if (!needles.some((n) => buf.includes(n))) continue;
      const scratch = emptyCatalog();
      parseCatalogText(scratch, buf.toString('utf8'), batch[k]!);
      if (packages.some((p) => scratch.packages.has(p))) return true;
    }
  }
  return false;
}

/**
 * Moves the directories out of the catalog first (beside it, as writeCatalog
 * stages its work), so a failure part way puts them all back; then deletes them.
 */
async function removeDirs(dir: string, rels: readonly string[]): Promise<void> {
  const abs = path.resolve(dir);
  const stage = path.join(path.dirname(abs), `.${path.basename(abs)}.rm-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(stage);
  const moved: [string, string][] = [];
  try {
    for (const [i, rel] of rels.entries()) {
      const from = path.join(abs, rel);
      const to = path.join(stage, String(i));
      try {
        await fsp.rename(from, to);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      moved.push([from, to]);
    }
  } catch (err) {
    for (const [from, to] of moved.reverse()) await fsp.rename(to, from);
    await fsp.rm(stage, { recursive: true, force: true });
    throw err;
  }
  await fsp.rm(stage, { recursive: true, force: true });
}

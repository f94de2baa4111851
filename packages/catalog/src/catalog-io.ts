/**
 * Reading a catalog directory into memory and writing it back atomically:
 * a new directory is built beside the old one and swapped in with renames, so
 * a failure at any point leaves the catalog as it was.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { CatalogError, inputError } from './errors';
import { emptyCatalog, parseCatalogText, serializeBlock, type Catalog, type PackageBlock } from './fbc';
import { encodeBlob } from './gojson';

async function walk(root: string, rel: string, out: string[], ignore: RegExp[]): Promise<void> {
  const entries = await fsp.readdir(path.join(root, rel), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const relPath = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.name === '.indexignore' || ignore.some((r) => r.test(relPath) || r.test(e.name))) continue;
    if (e.isDirectory()) await walk(root, relPath, out, ignore);
    else if (e.isFile()) out.push(relPath);
  }
}

function globToRegExp(glob: string): RegExp {
  const g = glob.replace(/^\//, '').replace(/\/$/, '');
  const re = g
    .split('')
    .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}(/.*)?$`);
}

async function readIgnore(dir: string): Promise<RegExp[]> {
  try {
    const text = await fsp.readFile(path.join(dir, '.indexignore'), 'utf8');
    return text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map(globToRegExp);
  } catch {
    return [];
  }
}

/**
 * The catalog files under `dir` (paths relative to it, sorted, without what
 * `.indexignore` excludes), or undefined when `dir` does not exist.
 */
export async function listCatalogFiles(dir: string): Promise<string[] | undefined> {
  let stat;
  try {
    stat = await fsp.stat(dir);
  } catch {
    return undefined;
  }
  if (!stat.isDirectory()) throw inputError(dir, 'not a directory');
  const files: string[] = [];
  await walk(dir, '', files, await readIgnore(dir));
  return files;
}

/**
 * Reads every file of a catalog directory; a missing or empty directory is an
 * empty catalog. Each file costs its own size: the packages a file touched
 * come back from parsing it, with no look at the packages read before.
 */
export async function readCatalog(dir: string): Promise<Catalog> {
  const catalog = emptyCatalog();
  for (const rel of (await listCatalogFiles(dir)) ?? []) {
    const full = path.join(dir, rel);
    const text = await fsp.readFile(full, 'utf8');
    noteOriginal([...parseCatalogText(catalog, text, full)], rel, full);
  }
  return catalog;
}

/**
 * After reading the file `rel` (`full`): a package whose blobs all come from
 * its own file can later be written back by linking that file.
 */
export function noteOriginal(touched: readonly PackageBlock[], rel: string, full: string): void {
  const only = touched[0];
  if (touched.length === 1 && only && only.sources.length === 1 && rel === `${only.name}/catalog.json`) {
    only.original = { file: full };
  } else {
    for (const b of touched) delete b.original;
  }
}

export interface WriteOptions {
  /** Packages whose blobs changed; others are linked from their original file. */
  dirty?: ReadonlySet<string>;
}

async function writePackage(dir: string, block: PackageBlock, dirty: boolean): Promise<void> {
  const pkgDir = path.join(dir, block.name);
  await fsp.mkdir(pkgDir, { recursive: true });
  const target = path.join(pkgDir, 'catalog.json');
  if (!dirty && block.original) {
    try {
      await fsp.link(block.original.file, target);
      return;
    } catch {
      try {
        await fsp.copyFile(block.original.file, target);
        return;
      } catch {
        // fall back to serialising below
      }
    }
  }
  await fsp.writeFile(target, serializeBlock(block));
}

/**
 * Writes the catalog as `<package>/catalog.json` files into a fresh directory
 * beside `dir`, then swaps it in. On failure `dir` is left unchanged.
 */
export async function writeCatalog(dir: string, catalog: Catalog, options: WriteOptions = {}): Promise<void> {
  const abs = path.resolve(dir);
  const parent = path.dirname(abs);
  await fsp.mkdir(parent, { recursive: true });
  const suffix = randomBytes(6).toString('hex');
  const tmp = path.join(parent, `.${path.basename(abs)}.tmp-${suffix}`);
  const old = path.join(parent, `.${path.basename(abs)}.old-${suffix}`);
  try {
    await fsp.mkdir(tmp);
    for (const block of catalog.packages.values()) {
      if (block.name === '')
        throw new CatalogError('input', 'cannot write blobs that belong to no package name');
      const dirty = options.dirty ? options.dirty.has(block.name) : true;
      await writePackage(tmp, block, dirty || !block.original);
    }
    if (catalog.globals.length > 0) {
      await fsp.writeFile(path.join(tmp, 'catalog.json'), catalog.globals.map(encodeBlob).join(''));
    }
    let moved = false;
    try {
      await fsp.rename(abs, old);
      moved = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    try {
      await fsp.rename(tmp, abs);
    } catch (err) {
      if (moved) await fsp.rename(old, abs);
      throw err;
    }
    if (moved) await fsp.rm(old, { recursive: true, force: true });
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * File-level work on an extracted `/configs` tree. Requests that replace or
 * rewrite a few packages touch only those package directories, so every other
 * file stays byte for byte what the index held (whatever its layout: YAML,
 * JSON, several files per package).
 */
import { cp, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../../shared/errors';
import type { BuildContext } from '../workspace/build-context';
import {
  readCatalog,
  serializeBlock,
  validateCatalog,
  writeCatalog,
  CatalogError,
  type Catalog,
} from '@iib-ts/catalog';
import type { ResolvedImage } from '../tools/images';

/** IIB's operator_deprecations_dir under /configs. */
export const DEPRECATIONS_DIR = '_operator-deprecations-content';

/** The arch to extract an image's files from: one the build needs, else the image's first. */
export function extractArch(image: ResolvedImage, wanted: readonly string[]): string {
  const arch = wanted.find((a) => image.arches.includes(a)) ?? image.arches[0] ?? wanted[0];
  if (!arch) throw new ValidationError(`The image ${image.ref} has no architecture to extract from`);
  return arch;
}

/**
 * Extracts `configsPath` of an image into `<workDir>/<name>/configs` (each
 * image in its own directory) and returns that path; missing means empty.
 */
export async function extractConfigs(
  ctx: BuildContext,
  image: ResolvedImage,
  arch: string,
  configsPath: string,
  name: string,
  images: BuildContext['images'] = ctx.images,
): Promise<string> {
  const base = path.join(ctx.workDir, name);
  const root = path.join(base, 'rootfs');
  await mkdir(base, { recursive: true });
  await images.extract(image.resolved, arch, configsPath, base, root);
  const extracted = path.join(root, configsPath.replace(/^\/+/, ''));
  const configs = path.join(base, 'configs');
  await rename(extracted, configs).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(configs, { recursive: true });
  });
  await rm(root, { recursive: true, force: true });
  await rm(path.join(base, `image-${arch}`), { recursive: true, force: true });
  return configs;
}

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Top-level entries of a configs directory: directories and plain files apart. */
export async function topLevel(dir: string): Promise<{ dirs: string[]; files: string[] }> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const files = entries.filter((e) => !e.isDirectory()).map((e) => e.name);
  return { dirs: dirs.sort(), files: files.sort() };
}

/** Replaces `<configs>/<name>` with a copy of `src` (a directory). */
export async function replaceDir(configs: string, name: string, src: string): Promise<void> {
  const dest = path.join(configs, name);
  await rm(dest, { recursive: true, force: true });
  await cp(src, dest, { recursive: true, verbatimSymlinks: true });
}

/**
 * Removes `_operator-deprecations-content/<pkg>` for the given packages, as
 * IIB does when a package is replaced or removed; returns those it removed.
 */
export async function removeDeprecations(configs: string, packages: Iterable<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const pkg of packages) {
    const dir = path.join(configs, DEPRECATIONS_DIR, pkg);
    if (await exists(dir)) {
      await rm(dir, { recursive: true, force: true });
      removed.push(pkg);
    }
  }
  const { dirs, files } = await topLevel(path.join(configs, DEPRECATIONS_DIR));
  if (removed.length > 0 && dirs.length === 0 && files.length === 0) {
    await rm(path.join(configs, DEPRECATIONS_DIR), { recursive: true, force: true });
  }
  return removed;
}

/** `opm validate` of a configs tree, failing with IIB's message and opm's text. */
export async function validateConfigs(configs: string): Promise<Catalog> {
  let catalog: Catalog;
  try {
    catalog = await readCatalog(configs);
  } catch (err) {
    if (err instanceof CatalogError) throw invalidContent(configs, err.message);
    throw err;
  }
  const result = validateCatalog(catalog);
  if (!result.valid) throw invalidContent(configs, result.message ?? 'invalid catalog');
  return catalog;
}

function invalidContent(configs: string, message: string): ValidationError {
  // Paths in messages name the file inside the image, not the builder's work directory.
  const shown = message.split(configs).join('/configs');
  return new ValidationError(`Failed to validate the content from config_dir /configs: ${shown}`);
}

/**
 * Reads a catalog without its `_operator-deprecations-content` tree (so that
 * rewriting a package does not pull those blobs into its own file), runs
 * `edit`, writes back only the packages it changed or removed, then puts the
 * deprecations back. Returns the top-level entries changed, or undefined when
 * the tree had to be rewritten whole (packages spread over foreign files).
 */
export async function editCatalog(
  configs: string,
  edit: (catalog: Catalog) => Promise<{ dirty: Set<string>; removed: Set<string> }>,
): Promise<{ changed: Set<string> | undefined; dirty: Set<string>; removed: Set<string> }> {
  const aside = `${configs}.deprecations`;
  const hasDeprecations = await exists(path.join(configs, DEPRECATIONS_DIR));
  if (hasDeprecations) await rename(path.join(configs, DEPRECATIONS_DIR), aside);
  try {
    const catalog = await readCatalog(configs);
    const before = new Map([...catalog.packages].map(([name, block]) => [name, [...block.sources]]));
    const { dirty, removed } = await edit(catalog);
    const touched = [...new Set([...dirty, ...removed])].sort();
    const own = (pkg: string): boolean =>
      (before.get(pkg) ?? []).every(
        (f) => path.dirname(path.relative(configs, f)).split(path.sep)[0] === pkg,
      );
    let changed: Set<string> | undefined = new Set(touched);
    if (touched.every(own)) {
      for (const pkg of touched) {
        await rm(path.join(configs, pkg), { recursive: true, force: true });
        const block = catalog.packages.get(pkg);
        if (!block) continue;
        await mkdir(path.join(configs, pkg), { recursive: true });
        await writeFile(path.join(configs, pkg, 'catalog.json'), serializeBlock(block));
      }
    } else {
      await writeCatalog(configs, catalog, { dirty });
      changed = undefined;
    }
    return { changed, dirty, removed };
  } finally {
    if (hasDeprecations) {
      await rm(path.join(configs, DEPRECATIONS_DIR), { recursive: true, force: true });
      await rename(aside, path.join(configs, DEPRECATIONS_DIR));
    }
  }
}

/** Python's repr of a list of strings (IIB puts them in progress reasons). */
export function pyList(items: readonly string[]): string {
  return `[${items.map((i) => `'${i.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')}]`;
}

import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { addBundles, emptyCatalog, writeCatalog, type Catalog } from '@iib-ts/catalog';
import { fixturesDir } from './env';
import { labelLines, pushScratchImage, servedDigest } from './scratch-images';

export { requireRegistry } from './scratch-images';

/**
 * Index, fragment and bundle images for the fbc-operations, add-deprecations
 * and merge tests, built with buildah (vfs storage, chroot isolation, FROM
 * scratch + COPY so the foreign arch needs no emulation) and pushed to the
 * test registry.
 */

export interface TreeImage {
  /** Directories to copy in: path in the image -> local directory. */
  dirs: Record<string, string>;
  labels?: Record<string, string>;
  arches?: string[];
}

/** Builds FROM scratch with the given trees and labels, pushes it (a list for several arches), returns `repo@digest`. */
export async function pushTreeImage(ref: string, spec: TreeImage): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'iib-fbc-image-'));
  const arches = spec.arches ?? ['amd64'];
  const name = `localhost/iib-fbc-test/${path.basename(dir).toLowerCase()}`;
  try {
    const lines = ['FROM scratch'];
    for (const [i, [dest, src]] of Object.entries(spec.dirs).entries()) {
      await cp(src, path.join(dir, 'ctx', `d${i}`), { recursive: true });
      lines.push(`COPY d${i} ${dest}`);
    }
    await mkdir(path.join(dir, 'ctx'), { recursive: true });
    await pushScratchImage(
      ref,
      name,
      path.join(dir, 'ctx'),
      [...lines.slice(1), ...labelLines(spec.labels)],
      arches,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return digestRef(ref);
}

export async function digestRef(ref: string): Promise<string> {
  return `${ref.replace(/:[^/:@]+$/, '')}@${await servedDigest(ref)}`;
}

export const INDEX_LABELS = (version: string, scope: string): Record<string, string> => ({
  'operators.operatorframework.io.index.configs.v1': '/configs',
  'com.redhat.index.delivery.version': version,
  'com.redhat.index.delivery.distribution_scope': scope,
});

/** An index image (amd64 + arm64) whose /configs is `configsDir`. */
export async function pushIndex(
  ref: string,
  configsDir: string,
  labels: Record<string, string>,
): Promise<string> {
  return pushTreeImage(ref, { dirs: { '/configs': configsDir }, labels, arches: ['amd64', 'arm64'] });
}

export const fixtureBundleDir = (op: string, version: string): string =>
  path.join(fixturesDir, 'bundles', op, version);

/**
 * A fixture bundle as an image of this run, with its annotations as labels
 * plus `extraLabels` (say com.redhat.openshift.versions); returns `repo@digest`.
 */
export async function pushBundle(
  ref: string,
  op: string,
  version: string,
  extraLabels: Record<string, string> = {},
): Promise<string> {
  const dir = fixtureBundleDir(op, version);
  return pushTreeImage(ref, {
    dirs: { '/manifests': path.join(dir, 'manifests'), '/metadata': path.join(dir, 'metadata') },
    labels: await fixtureBundleLabels(op, version, extraLabels),
  });
}

/** The labels of a fixture bundle's image: its annotations plus `extra`. */
export async function fixtureBundleLabels(
  op: string,
  version: string,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const text = await readFile(
    path.join(fixtureBundleDir(op, version), 'metadata', 'annotations.yaml'),
    'utf8',
  );
  const annotations = (parse(text) as { annotations?: Record<string, string> }).annotations;
  return { ...(annotations ?? {}), ...extra };
}

/** A catalog of the given bundles, added in order (replaces mode) and written to `dir`. */
export async function writeBundlesCatalog(
  dir: string,
  bundles: { op: string; version: string; image: string }[],
): Promise<Catalog> {
  const catalog = emptyCatalog();
  for (const b of bundles) {
    await addBundles(catalog, [{ dir: fixtureBundleDir(b.op, b.version), image: b.image }], {
      mode: 'replaces',
    });
  }
  await writeCatalog(dir, catalog);
  return catalog;
}

/** Every file under `dir` (relative path -> bytes), to compare trees. */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out.set(r, await readFile(path.join(dir, r)));
    }
  };
  await walk('');
  return out;
}

/** The files of `tree` under the top-level directory `top`. */
export function under(tree: Map<string, Buffer>, top: string): Map<string, Buffer> {
  return new Map([...tree].filter(([k]) => k.startsWith(`${top}/`)));
}

/**
 * Benchmark of the catalog engine (issue 4, point 6): add one bundle to, and
 * validate, a generated catalog of 1,000 packages / 10,000 bundles built from
 * the fixture bundles with renamed packages, against the floor of reading,
 * parsing and writing that catalog's files. Run: node dist/bench/catalog.js
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { addBundles } from '../services/builder/catalog/add';
import { readCatalog, writeCatalog } from '../services/builder/catalog/catalog-io';
import { parseJsonStream } from '../services/builder/catalog/decode';
import { emptyBlock, emptyCatalog, type BundleBlob, type Catalog } from '../services/builder/catalog/fbc';
import { encodeBlob } from '../services/builder/catalog/gojson';
import { renderBundle } from '../services/builder/catalog/render';
import { validateCatalog } from '../services/builder/catalog/validate';

const repoRoot = path.resolve(__dirname, '..', '..');
const fixtures = process.env.IIB_FIXTURES_DIR ?? path.resolve(repoRoot, '..', 'shared', 'fixtures', 'olm');
const PACKAGES = Number(process.env.BENCH_PACKAGES ?? 1000);
const PER_PACKAGE = Number(process.env.BENCH_BUNDLES_PER_PACKAGE ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function fixtureBlobs(): Promise<BundleBlob[]> {
  const out: BundleBlob[] = [];
  const root = path.join(fixtures, 'bundles');
  for (const op of (await fsp.readdir(root)).sort()) {
    const dir = path.join(root, op);
    if (!(await fsp.stat(dir)).isDirectory()) continue;
    for (const ver of (await fsp.readdir(dir)).sort()) {
      out.push(await renderBundle(path.join(dir, ver), `example.com/fixtures/${op}:${ver}`));
    }
  }
  return out;
}

function pkgName(i: number): string {
  return `bench-${String(i).padStart(4, '0')}`;
}

/** 1,000 packages, each a replaces chain of 10 renamed copies of a fixture bundle. */
function generate(bases: BundleBlob[]): Catalog {
  const catalog = emptyCatalog();
  for (let i = 0; i < PACKAGES; i++) {
    const pkg = pkgName(i);
    const block = emptyBlock(pkg);
    block.package = { schema: 'olm.package', name: pkg, defaultChannel: 'stable' };
    const entries = [];
    for (let k = 0; k < PER_PACKAGE; k++) {
      const base = bases[(i * PER_PACKAGE + k) % bases.length]!;
      const name = `${pkg}.v1.0.${k}`;
      const properties = (base.properties ?? []).map((p) =>
        p.type === 'olm.package' ? { type: p.type, value: { packageName: pkg, version: `1.0.${k}` } } : p,
      );
      const image = `example.com/bench/${pkg}-bundle:v1.0.${k}`;
      block.bundles.push({ ...base, name, package: pkg, image, properties });
      entries.push(k === 0 ? { name } : { name, replaces: `${pkg}.v1.0.${k - 1}` });
    }
    block.channels.push({ schema: 'olm.channel', name: 'stable', package: pkg, entries });
    catalog.packages.set(pkg, block);
  }
  return catalog;
}

/** A fixture bundle rewritten to be the next version of the first generated package. */
async function nextBundle(work: string): Promise<string> {
  const src = path.join(fixtures, 'bundles', 'baz', '1.1.0');
  const dst = path.join(work, 'next-bundle');
  await fsp.cp(src, dst, { recursive: true });
  const pkg = pkgName(0);
  const annFile = path.join(dst, 'metadata', 'annotations.yaml');
  const ann = parseYaml(await fsp.readFile(annFile, 'utf8')) as { annotations: Record<string, string> };
  ann.annotations['operators.operatorframework.io.bundle.package.v1'] = pkg;
  ann.annotations['operators.operatorframework.io.bundle.channels.v1'] = 'stable';
  ann.annotations['operators.operatorframework.io.bundle.channel.default.v1'] = 'stable';
  await fsp.writeFile(annFile, stringifyYaml(ann));
  const csvFile = path.join(dst, 'manifests', 'baz.csv.yaml');
  const csv = parseYaml(await fsp.readFile(csvFile, 'utf8')) as {
    metadata: { name: string };
    spec: Record<string, unknown>;
  };
  csv.metadata.name = `${pkg}.v1.0.${PER_PACKAGE}`;
  csv.spec.version = `1.0.${PER_PACKAGE}`;
  csv.spec.replaces = `${pkg}.v1.0.${PER_PACKAGE - 1}`;
  await fsp.writeFile(csvFile, stringifyYaml(csv));
  return dst;
}

/** The floor: read every file, parse its blobs, write them all out again. */
async function floor(src: string, dst: string): Promise<void> {
  await fsp.rm(dst, { recursive: true, force: true });
  for (const pkg of await fsp.readdir(src)) {
    const file = path.join(src, pkg, 'catalog.json');
    const blobs = parseJsonStream(await fsp.readFile(file, 'utf8'), file);
    await fsp.mkdir(path.join(dst, pkg), { recursive: true });
    await fsp.writeFile(path.join(dst, pkg, 'catalog.json'), blobs.map(encodeBlob).join(''));
  }
}

async function best(runs: number, fn: () => Promise<void>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

async function main(): Promise<void> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'iib-catalog-bench-'));
  try {
    const catalogDir = path.join(work, 'catalog');
    await writeCatalog(catalogDir, generate(await fixtureBlobs()));
    let bytes = 0;
    for (const pkg of await fsp.readdir(catalogDir))
      bytes += (await fsp.stat(path.join(catalogDir, pkg, 'catalog.json'))).size;
    const bundleDir = await nextBundle(work);

    const floorMs = await best(RUNS, () => floor(catalogDir, path.join(work, 'floor-out')));
    const peaks: Record<string, number> = {};
    let addMs = Infinity;
    for (let i = 0; i < RUNS; i++) {
      const dir = path.join(work, 'add-target');
      await fsp.rm(dir, { recursive: true, force: true });
      await fsp.cp(catalogDir, dir, { recursive: true }); // setup, not timed
      const t0 = performance.now();
      const catalog = await readCatalog(dir);
      const result = await addBundles(catalog, [{ dir: bundleDir, image: 'example.com/bench/next:v1' }], {
        mode: 'replaces',
      });
      await writeCatalog(dir, catalog, { dirty: result.dirty });
      addMs = Math.min(addMs, performance.now() - t0);
      peaks.add = Math.max(peaks.add ?? 0, process.memoryUsage().rss);
    }
    const validateMs = await best(RUNS, async () => {
      const result = validateCatalog(await readCatalog(catalogDir));
      if (!result.valid) throw new Error(`generated catalog is invalid: ${result.message ?? ''}`);
      peaks.validate = Math.max(peaks.validate ?? 0, process.memoryUsage().rss);
    });

    const rows: [string, number][] = [
      ['floor (read+parse+write)', floorMs],
      ['add 1 bundle (replaces)', addMs],
      ['validate', validateMs],
    ];
    const maxRss = process.resourceUsage().maxRSS * 1024;
    console.log(
      `catalog: ${PACKAGES} packages, ${PACKAGES * PER_PACKAGE} bundles, ${mb(bytes)} on disk; best of ${RUNS}`,
    );
    console.log('| operation | time (ms) | x floor | target |');
    console.log('|---|---:|---:|---|');
    for (const [name, ms] of rows) {
      const ratio = ms / floorMs;
      const target = name.startsWith('floor') ? '' : ratio <= 2 ? 'ok (<= 2x)' : 'MISSED (> 2x)';
      console.log(`| ${name} | ${ms.toFixed(0)} | ${ratio.toFixed(2)} | ${target} |`);
    }
    console.log(
      `peak RSS: ${mb(maxRss)} (after add: ${mb(peaks.add ?? 0)}, after validate: ${mb(peaks.validate ?? 0)})`,
    );
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});

/**
 * Benchmark of the catalog engine: how load, rm, add and validate grow with
 * the package count. Catalogs of 100, 500 and 2,600 packages (BENCH_SIZES)
 * are generated from the shared fixtures' community-operators subset; each
 * operation runs BENCH_RUNS times on each (best CPU time kept), the
 * algorithms this package replaced (bench/baseline.ts) beside the current ones.
 * Run: npm run bench -w @iib-ts/catalog (or the root's npm run bench).
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { addBundles } from '../src/add';
import { listCatalogFiles, readCatalog, writeCatalog } from '../src/catalog-io';
import { parseCatalogText, emptyCatalog, serializeBlock } from '../src/fbc';
import { removePackagesFromDir } from '../src/remove';
import { validateCatalog } from '../src/validate';
import { quadraticReadCatalog, wholeCatalogRemove } from './baseline';
import { generateCatalog } from './generate';

const packageRoot = path.resolve(__dirname, '..', '..');
const fixtures =
  process.env.IIB_FIXTURES_DIR ?? path.resolve(packageRoot, '..', '..', '..', 'shared', 'fixtures', 'olm');
const SOURCE = path.join(fixtures, 'catalogs', 'community-operators-prod-v4.18-subset');
const BUNDLE = path.join(fixtures, 'bundles', 'bar', '0.1.0');
const SIZES = (process.env.BENCH_SIZES ?? '100,500,2600').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** One generated catalog and the package every rm removes. */
interface Subject {
  dir: string;
  size: number;
  victim: string;
  work: string;
}

type Op = (s: Subject) => Promise<void>;

interface Timing {
  cpu: number;
  wall: number;
}

/**
 * Best of RUNS, by CPU time (user + system, all threads): on a shared machine
 * the wall clock mostly measures the other processes. A fresh copy to edit
 * (`edits`) is made before each run, untimed, and garbage collected first
 * when node runs with --expose-gc.
 */
async function best(s: Subject, op: Op, edits: boolean): Promise<Timing> {
  let min: Timing = { cpu: Infinity, wall: Infinity };
  for (let i = 0; i < RUNS; i++) {
    let subject = s;
    if (edits) {
      const copy = path.join(s.work, 'edit');
      await fsp.rm(copy, { recursive: true, force: true });
      await fsp.cp(s.dir, copy, { recursive: true });
      subject = { ...s, dir: copy };
    }
    (globalThis as { gc?: () => void }).gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await op(subject);
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1000;
    if (cpu < min.cpu) min = { cpu, wall };
  }
  return min;
}

async function readAllBytes(s: Subject): Promise<void> {
  for (const rel of (await listCatalogFiles(s.dir)) ?? []) await fsp.readFile(path.join(s.dir, rel));
}

/** What an edit of one package costs at least: read, parse, serialise and write its file. */
async function rewriteOneFile(s: Subject): Promise<void> {
  const file = path.join(s.dir, s.victim, 'catalog.json');
  const catalog = emptyCatalog();
  parseCatalogText(catalog, await fsp.readFile(file, 'utf8'), file);
  await fsp.writeFile(file, serializeBlock(catalog.packages.get(s.victim)!));
}

async function addOneBundle(s: Subject): Promise<void> {
  const catalog = await readCatalog(s.dir);
  const result = await addBundles(catalog, [{ dir: BUNDLE, image: 'example.com/bench/bar:0.1.0' }], {
    mode: 'replaces',
  });
  await writeCatalog(s.dir, catalog, { dirty: result.dirty });
}

async function validate(s: Subject): Promise<void> {
  const result = validateCatalog(await readCatalog(s.dir));
  if (!result.valid) throw new Error(`generated catalog is invalid: ${result.message ?? ''}`);
}

const OPS: { name: string; op: Op; edits: boolean }[] = [
  { name: 'read every file (bytes only)', op: readAllBytes, edits: false },
  {
    name: 'load, old (map of all packages per file)',
    op: (s) => quadraticReadCatalog(s.dir).then(),
    edits: false,
  },
  { name: 'load', op: (s) => readCatalog(s.dir).then(), edits: false },
  { name: 'rewrite one package file', op: rewriteOneFile, edits: true },
  {
    name: 'rm 1 package, old (whole catalog)',
    op: (s) => wholeCatalogRemove(s.dir, [s.victim]),
    edits: true,
  },
  { name: 'rm 1 package', op: (s) => removePackagesFromDir(s.dir, [s.victim]).then(), edits: true },
  { name: 'add 1 bundle (replaces)', op: addOneBundle, edits: true },
  { name: 'load + validate', op: validate, edits: false },
];

async function du(dir: string): Promise<number> {
  let bytes = 0;
  for (const rel of (await listCatalogFiles(dir)) ?? []) bytes += (await fsp.stat(path.join(dir, rel))).size;
  return bytes;
}

function table(sizes: readonly number[], results: Map<string, number[]>): string[] {
  const growthHeads = sizes
    .slice(1)
    .map((n, i) => `growth ${sizes[i]}→${n} (×${(n / sizes[i]!).toFixed(1)})`);
  const lines = [
    `| operation | ${sizes.map((n) => `${n} pkgs`).join(' | ')} | ${growthHeads.join(' | ')} |`,
    `|---|${sizes.map(() => '---:').join('|')}|${growthHeads.map(() => '---:').join('|')}|`,
  ];
  for (const [name, ms] of results) {
    const growth = ms.slice(1).map((v, i) => `×${(v / ms[i]!).toFixed(1)}`);
    lines.push(`| ${name} | ${ms.map((v) => v.toFixed(1)).join(' | ')} | ${growth.join(' | ')} |`);
  }
  return lines;
}

function pick(results: Map<string, Timing[]>, key: keyof Timing): Map<string, number[]> {
  return new Map([...results].map(([name, ts]) => [name, ts.map((t) => t[key])]));
}

async function main(): Promise<void> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'iib-catalog-bench-'));
  try {
    const results = new Map<string, Timing[]>(OPS.map((o) => [o.name, []]));
    const sizes: string[] = [];
    for (const size of SIZES) {
      const dir = path.join(work, `catalog-${size}`);
      const names = await generateCatalog(SOURCE, dir, size);
      const subject = { dir, size, victim: names[Math.floor(size / 2)]!, work };
      sizes.push(`${size}: ${((await du(dir)) / 1024 / 1024).toFixed(1)} MiB`);
      for (const o of OPS) results.get(o.name)!.push(await best(subject, o.op, o.edits));
      await fsp.rm(dir, { recursive: true, force: true });
    }
    console.log(`catalog engine, packages copied from ${path.basename(SOURCE)}; best of ${RUNS} by CPU time`);
    console.log(`on disk: ${sizes.join(', ')}; node ${process.version}, ${os.cpus().length} CPUs`);
    console.log(
      `load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    console.log('\nCPU time (ms, user + system):\n');
    for (const line of table(SIZES, pick(results, 'cpu'))) console.log(line);
    console.log('\nWall time of the same runs (ms):\n');
    for (const line of table(SIZES, pick(results, 'wall'))) console.log(line);
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});

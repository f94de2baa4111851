/**
 * Builder benchmark (issue 7, point 7; issue 24, point 6): an `add` of one
 * fixture bundle, end to end through the four services, against the *tool
 * floor* measured in the same run: the skopeo and buildah commands a full
 * rebuild needs, run one after another by this script. Two from indexes: the
 * six-package fixture catalog and a generated one (BENCH_PACKAGES, default
 * 600, made by generated-index.ts), each pushed twice, FROM the binary image
 * without opm (no serve cache) and FROM the one with the opm stand-in (every
 * build makes and ships the cache); each is built with and without the
 * incremental push. Both the services and the floor reach the registry
 * through a counting proxy, so each run reports the bytes it pushed; those
 * are set against the size of the package the add changes. Run:
 * node dist/bench/builder.js (BENCH_ROUNDS, default 3). Needs the stack
 * (`bash scripts/stack.sh up`), the test images and dist/ (`npm run build`).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { addBundles, readCatalog, writeCatalog } from '@iib-ts/catalog';
import { normalizeCatalogModes } from '../services/builder/index-image/incremental-layer';
import { extractLayers } from '../services/builder/tools/layers/layer-extractor';
import { writeGeneratedCatalog } from './generated-index';
import { diff, startRegistryMeter, type MeterCounts } from './registry-meter';
import { startBenchSystem, type BenchSystem } from './services';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ARCHES = ['amd64', 'arm64'];
const BUNDLE = { operator: 'ecr-secret-operator', version: '0.5.1' };
const repoRoot = path.resolve(__dirname, '..', '..');
const fixturesDir = process.env.IIB_FIXTURES_DIR ?? path.resolve(repoRoot, '..', 'shared', 'fixtures', 'olm');
const upstream = new URL(
  `http://${(process.env.IIB_TEST_REGISTRY ?? 'localhost:5000').replace(/^localhost/, '127.0.0.1')}`,
);
const execFileP = promisify(execFile);

interface Sample {
  ms: number;
  bytes: MeterCounts;
  note?: string;
}

let toolEnv: NodeJS.ProcessEnv = process.env;

async function tool(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP(cmd, args, { env: toolEnv, maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? await dirBytes(p) : (await stat(p)).size;
  }
  return n;
}

const dockerfile = (binary: string): string =>
  [
    `FROM ${binary}`,
    'ENTRYPOINT ["/bin/opm"]',
    'CMD ["serve", "/configs", "--cache-dir=/tmp/cache"]',
    'ADD configs /configs',
    'LABEL "operators.operatorframework.io.index.configs.v1"="/configs"',
    'LABEL "com.redhat.index.delivery.version"="v4.18"',
    'LABEL "com.redhat.index.delivery.distribution_scope"="prod"',
    '',
  ].join('\n');

/**
 * The build context a full rebuild hands to buildah (the index's /configs
 * with the bundle added by the catalog engine), made before the clock starts:
 * the floor is the tools' time, not ours.
 */
async function floorContext(
  work: string,
  index: string,
  bundle: string,
): Promise<{ contextDir: string; packageBytes: number }> {
  const layout = path.join(work, 'prep-index');
  await tool('skopeo', ['--override-arch', 'amd64', 'copy', `docker://${index}`, `dir:${layout}`]);
  const manifest = JSON.parse(await readFile(path.join(layout, 'manifest.json'), 'utf8')) as {
    layers: { digest: string }[];
  };
  const root = path.join(work, 'prep-root');
  const files = manifest.layers.map((l) => path.join(layout, l.digest.replace(/^sha256:/, '')));
  await extractLayers(files, 'configs', root, {
    maxBytes: 1 << 30,
    maxReadBytes: 8 * 1024 * 1024 * 1024,
    maxFileBytes: 256 * 1024 * 1024,
    maxFiles: 1_000_000,
    maxEntries: 10_000_000,
  });
  const contextDir = path.join(work, 'context');
  await mkdir(contextDir, { recursive: true });
  const configs = path.join(contextDir, 'configs');
  await tool('cp', ['-a', path.join(root, 'configs'), configs]);
  const catalog = await readCatalog(configs);
  const dir = path.join(fixturesDir, 'bundles', BUNDLE.operator, BUNDLE.version);
  const added = await addBundles(catalog, [{ dir, image: bundle }], { mode: 'replaces' });
  await writeCatalog(configs, catalog, { dirty: added.dirty });
  await rm(layout, { recursive: true, force: true });
  await rm(root, { recursive: true, force: true });
  return { contextDir, packageBytes: await dirBytes(path.join(configs, BUNDLE.operator)) };
}

/** The commands of a full rebuild, back to back. */
async function floorRun(
  work: string,
  refs: { index: string; binary: string; bundle: string },
  contextDir: string,
  dest: string,
): Promise<void> {
  const tmp = await mkdtemp(path.join(work, 'floor-'));
  const tag = randomBytes(4).toString('hex');
  const tags = ARCHES.map((a) => `bench-floor-${tag}-${a}`);
  const list = `bench-floor-${tag}-list`;
  try {
    for (const ref of [refs.bundle, refs.index, refs.binary])
      await tool('skopeo', ['inspect', '--raw', `docker://${ref}`]);
    await tool('skopeo', ['--override-arch', 'amd64', 'copy', `docker://${refs.index}`, `dir:${tmp}/index`]);
    await tool('skopeo', ['copy', `docker://${refs.bundle}`, `dir:${tmp}/bundle`]);
    const df = path.join(tmp, 'index.Dockerfile');
    await writeFile(df, dockerfile(refs.binary));
    for (const [i, arch] of ARCHES.entries()) {
      await tool('buildah', [
        'bud',
        '--no-cache',
        '--format',
        'docker',
        '--platform',
        `linux/${arch}`,
        '-f',
        df,
        '-t',
        tags[i]!,
        contextDir,
      ]);
      await tool('buildah', ['push', '--format', 'v2s2', tags[i]!, `docker://${dest}-${arch}`]);
    }
    await tool('buildah', ['manifest', 'create', list]);
    for (const arch of ARCHES) await tool('buildah', ['manifest', 'add', list, `docker://${dest}-${arch}`]);
    await tool('buildah', ['manifest', 'push', '--all', '--format', 'v2s2', list, `docker://${dest}`]);
  } finally {
    await tool('buildah', ['manifest', 'rm', list]).catch(() => undefined);
    await tool('buildah', ['rmi', '-f', ...tags]).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
}

async function addRun(
  sys: BenchSystem,
  refs: { index: string; binary: string; bundle: string },
): Promise<{ note: string }> {
  const res = await fetch(`${sys.api}/builds/add`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from_index: refs.index, binary_image: refs.binary, bundles: [refs.bundle] }),
  });
  const body = (await res.json()) as { id?: number; error?: string };
  if (res.status !== 201 || body.id === undefined)
    throw new Error(`add was refused: ${res.status} ${body.error}`);
  const deadline = Date.now() + 600_000;
  for (;;) {
    const r = (await (await fetch(`${sys.api}/builds/${body.id}`)).json()) as {
      state: string;
      state_reason: string;
    };
    if (r.state === 'complete') break;
    if (r.state === 'failed') {
      const logs = await (await fetch(`${sys.api}/builds/${body.id}/logs`)).text();
      throw new Error(`add ${body.id} failed: ${r.state_reason}\n${logs}`);
    }
    if (Date.now() > deadline) throw new Error(`add ${body.id} did not finish`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const logs = await (await fetch(`${sys.api}/builds/${body.id}/logs`)).text();
  if (process.env.BENCH_SHOW_LOGS) process.stderr.write(`${logs}\n`);
  const line = /(pushing \d+ changed packages as one layer|full rebuild: [^\n]*)/.exec(logs);
  return { note: line?.[1] ?? '?' };
}

async function measure(
  meter: { counts(): MeterCounts },
  fn: () => Promise<{ note?: string } | void>,
): Promise<Sample> {
  const before = meter.counts();
  const t0 = process.hrtime.bigint();
  const r = await fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, bytes: diff(meter.counts(), before), note: r ? r.note : undefined };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

type Kind = 'floor' | 'full' | 'incremental' | 'fullCache' | 'incrementalCache';
const LABELS: Record<Kind, string> = {
  floor: 'tool floor (skopeo + buildah script, no cache)',
  full: 'add, full rebuild, no cache (binary without opm)',
  incremental: 'add, incremental push, no cache',
  fullCache: 'add, full rebuild, with serve cache (binary with opm)',
  incrementalCache: 'add, incremental push, with serve cache',
};

/** FROM binary + COPY configs (0644/0755, as every build ships them), amd64 + arm64, pushed as a list. */
async function pushBenchIndex(work: string, ref: string, binary: string, configs: string): Promise<void> {
  const ctx = await mkdtemp(path.join(work, 'index-'));
  const list = `bench-index-${randomBytes(4).toString('hex')}`;
  try {
    await tool('cp', ['-a', configs, path.join(ctx, 'configs')]);
    await normalizeCatalogModes(path.join(ctx, 'configs'));
    const file = path.join(ctx, 'Containerfile');
    await writeFile(
      file,
      [
        `FROM ${binary}`,
        'COPY configs /configs/',
        'LABEL "operators.operatorframework.io.index.configs.v1"="/configs"',
        'LABEL "com.redhat.index.delivery.version"="v4.18"',
        'LABEL "com.redhat.index.delivery.distribution_scope"="prod"',
        '',
      ].join('\n'),
    );
    await tool('buildah', ['manifest', 'create', list]);
    for (const arch of ARCHES) {
      await tool('buildah', [
        'bud',
        '--quiet',
        // One time for both arches: identical catalog layers, as the builder's own full rebuilds.
        '--timestamp',
        '0',
        '--format',
        'docker',
        '--platform',
        `linux/${arch}`,
        '--manifest',
        list,
        '-f',
        file,
        ctx,
      ]);
    }
    await tool('buildah', [
      'manifest',
      'push',
      '--quiet',
      '--all',
      '--format',
      'v2s2',
      list,
      `docker://${ref}`,
    ]);
  } finally {
    await tool('buildah', ['manifest', 'rm', list]).catch(() => undefined);
    await rm(ctx, { recursive: true, force: true });
  }
}

async function scenario(
  meter: { host: string; counts(): MeterCounts },
  work: string,
  systems: { full: BenchSystem; incremental: BenchSystem },
  name: string,
  packages: number,
): Promise<void> {
  const ns = `bench-${randomBytes(4).toString('hex')}`;
  const catalogs = path.join(fixturesDir, 'catalogs');
  const dirs = (await readdir(catalogs, { withFileTypes: true })).filter((e) => e.isDirectory());
  const src = path.join(catalogs, dirs.map((e) => e.name).sort()[0]!);
  const configs = path.join(work, `${name}-configs`);
  const count = await writeGeneratedCatalog(src, configs, packages);
  const binary = `${meter.host}/iib-test/binary:v1`;
  const binaryOpm = `${meter.host}/iib-test/binary-opm:v1`;
  const plain = `${meter.host}/${ns}/index:${name}`;
  const opm = `${meter.host}/${ns}/index-opm:${name}`;
  await pushBenchIndex(work, plain, binary, configs);
  await pushBenchIndex(work, opm, binaryOpm, configs);
  const bundle = `${meter.host}/fixtures/${BUNDLE.operator}-bundle:v${BUNDLE.version}`;
  const refs = { index: plain, binary, bundle };
  const refsCache = { index: opm, binary: binaryOpm, bundle };
  const scenarioWork = await mkdtemp(path.join(work, `${name}-`));
  const { contextDir, packageBytes } = await floorContext(scenarioWork, refs.index, refs.bundle);
  const catalogBytes = await dirBytes(configs);
  const samples: Record<Kind, Sample[]> = {
    floor: [],
    full: [],
    incremental: [],
    fullCache: [],
    incrementalCache: [],
  };
  let n = 0;
  const floorOnce = () => floorRun(scenarioWork, refs, contextDir, `${meter.host}/${ns}/floor:${(n += 1)}`);
  const runs: Record<Kind, () => Promise<{ note?: string } | void>> = {
    floor: floorOnce,
    full: () => addRun(systems.full, refs),
    incremental: () => addRun(systems.incremental, refs),
    fullCache: () => addRun(systems.full, refsCache),
    incrementalCache: () => addRun(systems.incremental, refsCache),
  };
  const kinds = Object.keys(runs) as Kind[];
  // Warm-up: buildah's storage gets the binary images, the caches their entries.
  for (const k of kinds) await runs[k]();
  for (let r = 0; r < ROUNDS; r += 1) {
    for (const k of kinds) samples[k].push(await measure(meter, runs[k]));
    process.stderr.write(`${name}: round ${r + 1}/${ROUNDS} done\n`);
  }
  const floorMs = median(samples.floor.map((s) => s.ms));
  const fmt = (x: number, d = 2): string => x.toFixed(d);
  console.log(
    `\nbuilder, ${name} index (${count} packages, /configs ${catalogBytes} bytes): add ${BUNDLE.operator} ${BUNDLE.version} (${ARCHES.join(' + ')}), median of ${ROUNDS} rounds`,
  );
  console.log(`changed package ${BUNDLE.operator}/: ${packageBytes} bytes\n`);
  console.log(
    '| run | time (ms) | x floor | bytes pushed | x package | blob uploads | mounts | bytes sent (all requests) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const k of kinds) {
    const ms = median(samples[k].map((s) => s.ms));
    const pushed = median(samples[k].map((s) => s.bytes.pushedBytes));
    console.log(
      `| ${LABELS[k]} | ${fmt(ms, 0)} | ${fmt(ms / floorMs)} | ${pushed} | ${fmt(pushed / packageBytes)} | ${median(samples[k].map((s) => s.bytes.uploads))} | ${median(samples[k].map((s) => s.bytes.mounts))} | ${median(samples[k].map((s) => s.bytes.sentBytes))} |`,
    );
  }
  console.log('\nmode seen in the request logs:');
  for (const k of kinds.filter((x) => x !== 'floor'))
    console.log(`  ${LABELS[k]}: "${samples[k][0]?.note ?? '?'}"`);
}

async function main(): Promise<void> {
  const probe = await fetch(`${upstream.origin}/v2/`).catch(() => undefined);
  if (!probe?.ok)
    throw new Error(`the registry ${upstream.host} does not answer: run \`bash scripts/stack.sh up\``);
  const meter = await startRegistryMeter({ host: upstream.hostname, port: Number(upstream.port || 80) });
  const work = await mkdtemp(path.join(os.tmpdir(), 'iib-bench-builder-'));
  // The meter speaks plain HTTP: tell skopeo and buildah (theirs and the
  // services') through a registries.conf drop-in under a HOME of our own.
  const home = path.join(work, 'home');
  await mkdir(path.join(home, '.config', 'containers', 'registries.conf.d'), { recursive: true });
  await writeFile(
    path.join(home, '.config', 'containers', 'registries.conf.d', 'bench-meter.conf'),
    `[[registry]]\nlocation = "${meter.host}"\ninsecure = true\n`,
  );
  toolEnv = {
    ...process.env,
    HOME: home,
    STORAGE_DRIVER: process.env.STORAGE_DRIVER ?? 'vfs',
    BUILDAH_ISOLATION: process.env.BUILDAH_ISOLATION ?? 'chroot',
  };
  const started: BenchSystem[] = [];
  try {
    const full = await startBenchSystem(meter.host, { HOME: home, IIB_INCREMENTAL_PUSH: 'false' });
    started.push(full);
    const incremental = await startBenchSystem(meter.host, { HOME: home, IIB_INCREMENTAL_PUSH: 'true' });
    started.push(incremental);
    const systems = { full, incremental };
    await scenario(meter, work, systems, 'fixture', 6);
    await scenario(meter, work, systems, 'generated', Number(process.env.BENCH_PACKAGES ?? 600));
  } finally {
    for (const s of started) await s.stop().catch(() => undefined);
    await meter.close();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

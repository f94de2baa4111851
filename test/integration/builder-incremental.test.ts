import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadBuilderConfig } from '../../shared/config';
import type { StateUpdate } from '../../shared/contracts';
import type { AmqpSender } from '../../shared/messaging';
import type { BuildContext } from '../../services/builder/workspace/build-context';
import { Buildah } from '../../services/builder/tools/buildah';
import { addBundles, readCatalog, removePackages, writeCatalog } from '@iib-ts/catalog';
import { CommandRunner } from '../../services/builder/tools/command-runner';
import { Images } from '../../services/builder/tools/images';
import { planIncremental } from '../../services/builder/index-image/incremental';
import { extractLimits } from '../../services/builder/tools/layers/layer-extractor';
import {
  buildAndPushIndex,
  loadIndexCatalog,
  prepareIndexBuild,
  type IndexCatalog,
} from '../../services/builder/index-image';
import { Reporter } from '../../services/builder/lane/reporter';
import { buildRegistryHost, fixturesDir, registryBaseUrl, testImageArches, testImages } from '../support/env';
import { extractFromImage, imageConfig, validateCatalogDir } from '../support/index-images';

jest.setTimeout(900_000);

const toolEnv = {
  ...process.env,
  STORAGE_DRIVER: process.env.STORAGE_DRIVER ?? 'vfs',
  BUILDAH_ISOLATION: process.env.BUILDAH_ISOLATION ?? 'chroot',
};
const namespace = `${buildRegistryHost}/it-incr-${randomBytes(4).toString('hex')}`;
let nextId = 1;
const USER_LABELS = { 'com.example.team': 'release-engineering' };
/** buildah bud stamps its version; an image assembled without buildah has no reason to. */
const withoutBuildahLabel = (labels: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(labels).filter(([k]) => k !== 'io.buildah.version'));

interface Built {
  image: string;
  lines: string[];
}

type Change = (work: IndexCatalog) => Promise<ReadonlySet<string> | undefined>;

/** A BuildContext with the real tools and a reporter whose messages we keep. */
function context(params: Record<string, unknown>, overrides: { incremental: boolean; maxLayers?: number }) {
  const id = nextId++;
  const updates: StateUpdate[] = [];
  const sender = {
    send: (m: { body: StateUpdate }): Promise<void> => {
      updates.push(m.body);
      return Promise.resolve();
    },
  } as unknown as AmqpSender;
  const reporter = new Reporter(sender, id, 'test');
  const runner = new CommandRunner(
    { attempts: 3, delayMs: 500, jitterMs: 100, multiplier: 2 },
    300_000,
    (line) => reporter.log(line),
    [],
    toolEnv,
  );
  const config = {
    ...loadBuilderConfig({ IIB_REGISTRY: namespace }),
    incrementalPush: overrides.incremental,
    incrementalMaxLayers: overrides.maxLayers ?? 8,
  };
  const buildah = new Buildah(runner, { attempts: 3 });
  return {
    updates,
    reporter,
    buildah,
    make: (workDir: string): BuildContext => ({
      event: {
        id,
        request_type: 'add',
        user: 'test',
        batch: id,
        params,
        submitted_at: new Date().toISOString(),
      },
      params,
      secrets: {},
      workDir,
      reporter,
      images: new Images(runner, {
        skopeoTimeout: '300s',
        attempts: 3,
        extractLimits: extractLimits(config),
      }),
      buildah,
      authFile: undefined,
      config,
      registry: namespace,
      binaryImageConfig: undefined,
      log: pino({ level: 'silent' }),
      localTags: [],
    }),
  };
}

async function build(
  fromIndex: string,
  change: Change,
  opts: { incremental: boolean; maxLayers?: number; binary?: string },
): Promise<Built> {
  const params = { from_index: fromIndex, binary_image: opts.binary ?? testImages.binary };
  const c = context(params, opts);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'iib-incr-'));
  const ctx = c.make(workDir);
  try {
    const prepared = await prepareIndexBuild(ctx);
    const work = await loadIndexCatalog(ctx, prepared);
    const changed = await change(work);
    const built = await buildAndPushIndex(ctx, prepared, work.contextDir, { labels: USER_LABELS, changed });
    await c.reporter.flush();
    return { image: built.index_image, lines: c.updates.flatMap((u) => u.logs ?? []) };
  } finally {
    await c.buildah.removeImages(ctx.localTags);
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Every path under `dir` with its kind and, for files, the sha256 of its bytes. */
async function tree(dir: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(path.join(dir, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const full = path.join(dir, r);
    const st = await lstat(full);
    if (st.isDirectory()) {
      out[`${r}/`] = 'dir';
      Object.assign(out, await tree(dir, r));
    } else if (st.isSymbolicLink()) {
      out[r] = `-> ${await readlink(full)}`;
    } else {
      out[r] = createHash('sha256')
        .update(await readFile(full))
        .digest('hex');
    }
  }
  return out;
}

async function configsTree(image: string, arch: string): Promise<Record<string, string>> {
  const { root, dir } = await extractFromImage(image, arch);
  try {
    const v = await validateCatalogDir(dir);
    expect({ code: v.code, output: v.output }).toMatchObject({ code: 0 });
    return await tree(dir);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * From the fixture index (one YAML file per package): add foo 0.1.0, drop
 * kubevirt-wol. The engine writes every package back as catalog.json, so all
 * of /configs changes; stale entries are left in kube-green for the next change to drop.
 */
const firstAdd: Change = async (work) => {
  const catalog = await readCatalog(work.configsDir);
  const added = await addBundles(
    catalog,
    [{ dir: path.join(fixturesDir, 'bundles', 'foo', '0.1.0'), image: testImages.bundle('foo', '0.1.0') }],
    { mode: 'replaces' },
  );
  const removed = removePackages(catalog, ['kubevirt-wol']);
  const changed = new Set([...added.dirty, ...removed]);
  await writeCatalog(work.configsDir, catalog, { dirty: changed });
  // Entries the catalog reader skips: an empty directory and a symlink.
  await mkdir(path.join(work.configsDir, 'kube-green', 'stale'));
  await symlink('catalog.json', path.join(work.configsDir, 'kube-green', 'stale-link'));
  return new Set([...changed, 'kube-green']);
};

/** add bar 0.1.0 (new package), drop shipwright-operator, rewrite kube-green (its stale entries must vanish). */
const addRmRewrite: Change = async (work) => {
  const catalog = await readCatalog(work.configsDir);
  const added = await addBundles(
    catalog,
    [{ dir: path.join(fixturesDir, 'bundles', 'bar', '0.1.0'), image: testImages.bundle('bar', '0.1.0') }],
    { mode: 'replaces' },
  );
  const removed = removePackages(catalog, ['shipwright-operator']);
  const changed = new Set([...added.dirty, ...removed, 'kube-green']);
  await writeCatalog(work.configsDir, catalog, { dirty: changed });
  return changed;
};

const removeDotvirt: Change = async (work) => {
  const catalog = await readCatalog(work.configsDir);
  const removed = removePackages(catalog, ['dotvirt-operator']);
  await writeCatalog(work.configsDir, catalog, { dirty: removed });
  return removed;
};

const gone = (t: Record<string, string>, pkg: string): string[] =>
  Object.keys(t).filter((p) => p === pkg || p.startsWith(`${pkg}/`));

describe('push only what changed: one layer over the from index vs. a full rebuild', () => {
  let binaryLayers: Record<string, number>;
  /** The fixture index after one add: canonical catalog.json packages, binary + 1 catalog layer. */
  let base: Built;
  let incremental: Built;
  let fullRebuild: Built;

  beforeAll(async () => {
    const probe = await fetch(`${registryBaseUrl(buildRegistryHost)}/v2/`).catch(() => undefined);
    if (!probe?.ok) {
      throw new Error(`the registry ${buildRegistryHost} does not answer: run \`bash scripts/stack.sh up\``);
    }
    binaryLayers = {};
    for (const arch of testImageArches) {
      binaryLayers[arch] = (await imageConfig(testImages.binary, arch)).layers;
    }
    base = await build(testImages.index, firstAdd, { incremental: true });
    incremental = await build(base.image, addRmRewrite, { incremental: true });
    fullRebuild = await build(base.image, addRmRewrite, { incremental: false });
  });

  it('when every package of the from index changed (YAML rewritten as JSON), then it is a full rebuild', async () => {
    expect(base.lines.join('\n')).toMatch(/full rebuild: every \/configs entry changed \(6\)/);
    const catalogLayers = new Set<string>();
    for (const arch of testImageArches) {
      const config = await imageConfig(base.image, arch);
      expect(config.layers).toBe(binaryLayers[arch]! + 1);
      catalogLayers.add(config.diffIds[config.diffIds.length - 1]!);
    }
    // The same bytes on every arch, however far apart the arches were built:
    // the next build can only be incremental if they are.
    expect(catalogLayers.size).toBe(1);
  });

  it('when the from index is the binary plus catalog layers, then each arch gets exactly one new layer', async () => {
    expect(incremental.lines.join('\n')).toMatch(
      /pushing 3 changed packages as one layer over the from index/,
    );
    expect(incremental.lines.join('\n')).not.toMatch(/not reported/);
    expect(fullRebuild.lines.join('\n')).toMatch(/full rebuild: incremental push is off/);
    for (const arch of testImageArches) {
      expect((await imageConfig(incremental.image, arch)).layers).toBe(binaryLayers[arch]! + 2);
      expect((await imageConfig(fullRebuild.image, arch)).layers).toBe(binaryLayers[arch]! + 1);
    }
  });

  it('when the same change is built both ways, then /configs, labels, entrypoint and cmd are the same on every arch', async () => {
    for (const arch of testImageArches) {
      const inc = await imageConfig(incremental.image, arch);
      const full = await imageConfig(fullRebuild.image, arch);
      expect(withoutBuildahLabel(inc.labels)).toEqual(withoutBuildahLabel(full.labels));
      expect(inc.labels).toMatchObject({
        ...USER_LABELS,
        'operators.operatorframework.io.index.configs.v1': '/configs',
        'com.redhat.index.delivery.version': 'v4.18',
        'com.redhat.index.delivery.distribution_scope': 'prod',
        'io.iib-test': 'binary',
      });
      expect(inc.entrypoint).toEqual(full.entrypoint);
      expect(inc.cmd).toEqual(full.cmd);
      const incTree = await configsTree(incremental.image, arch);
      const fullTree = await configsTree(fullRebuild.image, arch);
      expect(incTree).toEqual(fullTree);
      // The removed package is whited out; the rewritten one lost its stale file.
      expect(gone(incTree, 'shipwright-operator')).toEqual([]);
      expect(incTree['kube-green/stale/']).toBeUndefined();
      expect(incTree['kube-green/stale-link']).toBeUndefined();
      expect(incTree['kube-green/catalog.json']).toBeDefined();
      expect(incTree['bar/catalog.json']).toBeDefined();
      expect(incTree['foo/catalog.json']).toBeDefined();
    }
    const baseTree = await configsTree(base.image, 'amd64');
    expect(baseTree['kube-green/stale/']).toBe('dir');
    expect(baseTree['kube-green/stale-link']).toBe('-> catalog.json');
  });

  it('when an incremental index is the from index, then the next change stacks one more layer and reads like a full rebuild', async () => {
    const next = await build(incremental.image, removeDotvirt, { incremental: true });
    const nextFull = await build(incremental.image, removeDotvirt, { incremental: false });
    expect(next.lines.join('\n')).toMatch(/pushing 1 changed packages as one layer/);
    for (const arch of testImageArches) {
      expect((await imageConfig(next.image, arch)).layers).toBe(binaryLayers[arch]! + 3);
      const t = await configsTree(next.image, arch);
      expect(t).toEqual(await configsTree(nextFull.image, arch));
      expect(gone(t, 'dotvirt-operator')).toEqual([]);
    }
  });

  it('when the from index already carries the layer limit, then the build squashes back to one catalog layer', async () => {
    // The incremental result has 2 catalog layers: with a limit of 2 it squashes.
    const squashed = await build(incremental.image, removeDotvirt, { incremental: true, maxLayers: 2 });
    expect(squashed.lines.join('\n')).toMatch(
      /full rebuild: squashing: the from index already carries 2 catalog layers \(IIB_INCREMENTAL_MAX_LAYERS=2\)/,
    );
    for (const arch of testImageArches) {
      expect((await imageConfig(squashed.image, arch)).layers).toBe(binaryLayers[arch]! + 1);
      const t = await configsTree(squashed.image, arch);
      expect(gone(t, 'dotvirt-operator')).toEqual([]);
      expect(t['bar/catalog.json']).toBeDefined();
    }
  });

  it('when the base changed, the change is unknown or the option is off, then the plan is a full rebuild', async () => {
    const plan = async (binary: string, changed: ReadonlySet<string> | undefined, incremental = true) => {
      const c = context({ from_index: base.image, binary_image: binary }, { incremental });
      const workDir = await mkdtemp(path.join(os.tmpdir(), 'iib-incr-'));
      try {
        const ctx = c.make(workDir);
        const prepared = await prepareIndexBuild(ctx);
        const work = await loadIndexCatalog(ctx, prepared);
        return await planIncremental(ctx, prepared, work.configsDir, changed);
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    };
    // The incremental result as "binary": its layers are not a prefix of base's.
    expect(await plan(incremental.image, new Set(['foo']))).toEqual({
      kind: 'full',
      reason: 'the binary image is not the base of the amd64 from index (the base changed)',
    });
    expect(await plan(testImages.binary, undefined)).toEqual({
      kind: 'full',
      reason: 'the request did not say which packages changed',
    });
    expect(await plan(testImages.binary, new Set(['foo']), false)).toEqual({
      kind: 'full',
      reason: 'incremental push is off (IIB_INCREMENTAL_PUSH)',
    });
    expect(await plan(testImages.binary, new Set(['../etc']))).toMatchObject({ kind: 'full' });
    expect(await plan(testImages.binary, new Set(['foo']))).toMatchObject({
      kind: 'incremental',
      changed: ['foo'],
      unreported: [],
      catalogLayers: 1,
    });
  });
});

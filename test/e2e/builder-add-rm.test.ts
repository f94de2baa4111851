import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { minimalBundle, pushCraftedImage } from '../support/crafted-images';
import { registryHost, testImages } from '../support/env';
import {
  extractFromImage,
  imageArches,
  imageConfig,
  skopeo,
  submit,
  validateCatalogDir,
} from '../support/index-images';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';

jest.setTimeout(180_000);

const MEDIATYPE = 'operators.operatorframework.io.bundle.mediatype.v1';
const etcd090 = testImages.bundle('etcd', '0.9.0');
const etcd092 = testImages.bundle('etcd', '0.9.2');

/** rel path -> sha256 of every file under dir. */
async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else
        out.set(
          r,
          createHash('sha256')
            .update(await readFile(path.join(dir, r)))
            .digest('hex'),
        );
    }
  };
  await walk('');
  return out;
}

async function digestOf(ref: string): Promise<string> {
  const raw = await skopeo(['inspect', '--raw', `docker://${ref}`]);
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

/** The catalog blobs of one package directory of an extracted /configs. */
async function blobs(configs: string, pkg: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path.join(configs, pkg, 'catalog.json'), 'utf8');
  return text
    .split(/\n(?=\{)/)
    .filter((t) => t.trim() !== '')
    .map((t) => JSON.parse(t) as Record<string, unknown>);
}

describe('add and rm requests through the four services', () => {
  let system: RunningSystem;
  const cleanups: string[] = [];
  let fromConfigs: Map<string, string>;

  const extract = async (ref: string, arch = 'amd64'): Promise<string> => {
    const { root, dir } = await extractFromImage(ref, arch);
    cleanups.push(root);
    return dir;
  };

  const run = async (endpoint: 'add' | 'rm', body: Record<string, unknown>) => {
    const { status, json } = await submit(system.api, endpoint, {
      binary_image: testImages.binary,
      ...body,
    });
    expect(status).toBe(201);
    return waitForFinal(system.api, json.id as number);
  };

  /** Requests submitted together in beforeAll (the builder runs four at once); each test awaits its own. */
  const pending = new Map<string, Promise<Record<string, unknown>>>();
  const launch = (name: string, endpoint: 'add' | 'rm', body: Record<string, unknown>): void => {
    const p = run(endpoint, body);
    p.catch(() => undefined);
    pending.set(name, p);
  };
  const result = (name: string): Promise<Record<string, unknown>> => pending.get(name)!;

  const reasons = (done: Record<string, unknown>): string[] =>
    (done.state_history as { state_reason: string }[]).map((h) => h.state_reason).reverse();

  beforeAll(async () => {
    system = await startSystem({
      env: {
        IIB_BUILDER_CONCURRENCY: '4',
        IIB_REQUIRED_LABELS: JSON.stringify({ [MEDIATYPE]: 'registry+v1' }),
      },
    });
    const evil = minimalBundle({ pkg: 'evil', version: '0.1.0' });
    await pushCraftedImage(
      `${system.registry}/evil-bundle:v1`,
      [...evil.entries, { name: '../escape.txt', content: 'pwned' }],
      evil.labels,
    );
    const related = minimalBundle({
      pkg: 'related',
      version: '0.1.0',
      relatedImages: [
        { name: 'present', image: testImages.binary },
        { name: 'missing', image: `${system.registry}/missing-operand:v1` },
      ],
    });
    await pushCraftedImage(`${system.registry}/related-bundle:v1`, related.entries, related.labels);
    const broken = minimalBundle({ pkg: 'broken', version: '0.1.0' });
    await pushCraftedImage(
      `${system.registry}/broken-bundle:v1`,
      broken.entries.filter((e) => !e.name.endsWith('.clusterserviceversion.yaml')),
      broken.labels,
    );
    const from = testImages.index;
    launch('broken', 'add', { from_index: from, bundles: [`${system.registry}/broken-bundle:v1`] });
    launch('one', 'add', { from_index: from, bundles: [etcd090] });
    launch('two', 'add', {
      from_index: from,
      bundles: [etcd090, etcd092],
      build_tags: [`${system.namespace}-two`],
    });
    launch('deprecate', 'add', {
      from_index: from,
      bundles: [etcd090, etcd092],
      deprecation_list: [etcd090],
    });
    launch('rm', 'rm', { from_index: from, operators: ['kube-green'] });
    launch('rm-unknown', 'rm', { from_index: from, operators: ['no-such-operator'] });
    launch('no-bundle', 'add', { from_index: from, bundles: [`${system.registry}/no-such-bundle:v1`] });
    launch('no-label', 'add', { from_index: from, bundles: [testImages.bundle('foo', '0.3.0')] });
    launch('evil', 'add', { from_index: from, bundles: [`${system.registry}/evil-bundle:v1`] });
    launch('related', 'add', {
      from_index: from,
      bundles: [`${system.registry}/related-bundle:v1`],
      check_related_images: true,
    });
    launch('no-from-index', 'add', { bundles: [etcd090], add_arches: ['amd64'] });
    fromConfigs = await tree(await extract(testImages.index));
  });

  afterAll(async () => {
    await system?.stop();
    for (const dir of cleanups) await rm(dir, { recursive: true, force: true });
  });

  it('when one bundle is added to the multi-arch index, then the result holds it on both arches with the reported fields and IIB progress', async () => {
    const done = await result('one');
    expect(done.state_reason).toBe('The operator bundle(s) were successfully added to the index image');
    expect(done.state).toBe('complete');
    const id = done.id as number;
    expect(reasons(done)).toEqual([
      'The request was initiated',
      'Resolving the bundles',
      'Resolving the container images',
      'Building the index image for the following arches: amd64, arm64',
      'Checking if bundles are already present in index image',
      'Creating the manifest list',
      'The operator bundle(s) were successfully added to the index image',
    ]);
    expect(done.bundle_mapping).toEqual({ etcd: [etcd090] });
    expect(done.from_index_resolved).toBe(
      `${registryHost}/iib-test/index@${await digestOf(testImages.index)}`,
    );
    expect(done.binary_image_resolved).toBe(
      `${registryHost}/iib-test/binary@${await digestOf(testImages.binary)}`,
    );
    expect(done.index_image).toBe(`${system.registry}/iib-build:${id}`);
    expect(done.index_image_resolved).toBe(
      `${system.registry}/iib-build@${await digestOf(done.index_image as string)}`,
    );
    expect(done.arches).toEqual(['amd64', 'arm64']);
    expect(await imageArches(done.index_image as string)).toEqual(['amd64', 'arm64']);
    for (const arch of ['amd64', 'arm64']) {
      const cfg = await imageConfig(done.index_image as string, arch);
      expect(cfg.labels).toMatchObject({
        'operators.operatorframework.io.index.configs.v1': '/configs',
        'com.redhat.index.delivery.version': 'v4.18',
        'com.redhat.index.delivery.distribution_scope': 'prod',
      });
    }

    const configs = await extract(done.index_image as string, 'arm64');
    const etcd = await blobs(configs, 'etcd');
    const bundle = etcd.find((b) => b.schema === 'olm.bundle');
    expect(bundle).toMatchObject({
      name: 'etcdoperator.v0.9.0',
      image: `${registryHost}/fixtures/etcd-bundle@${await digestOf(etcd090)}`,
    });
    expect(await validateCatalogDir(configs)).toEqual({ code: 0, output: expect.any(String) as string });
    // Every package the add did not touch is byte for byte the from index's.
    const after = await tree(configs);
    for (const [file, hash] of fromConfigs) expect([file, after.get(file)]).toEqual([file, hash]);
    expect([...after.keys()].filter((f) => !fromConfigs.has(f))).toEqual(['etcd/catalog.json']);

    // Adding the same bundle again to that result: skipped, catalog unchanged.
    const again = await run('add', { from_index: done.index_image, bundles: [etcd090] });
    expect(again.state).toBe('complete');
    const logs = await (await fetch(`${system.api}/builds/${again.id as number}/logs`)).text();
    expect(logs).toContain(
      `Following bundles are already present in the index image: ${bundle!.image as string}`,
    );
    expect(await tree(await extract(again.index_image as string))).toEqual(after);
  });

  it('when two bundles are added with build_tags, then both are in the graph and the tag points at the list', async () => {
    const tag = `${system.namespace}-two`;
    const done = await result('two');
    expect([done.state, done.state_reason]).toEqual([
      'complete',
      'The operator bundle(s) were successfully added to the index image',
    ]);
    expect(done.bundle_mapping).toEqual({ etcd: [etcd090, etcd092] });
    expect(done.build_tags).toEqual([tag]);
    expect(await digestOf(`${system.registry}/iib-build:${tag}`)).toBe(
      (done.index_image_resolved as string).split('@')[1],
    );
    const configs = await extract(done.index_image as string);
    const etcd = await blobs(configs, 'etcd');
    const channel = etcd.find((b) => b.schema === 'olm.channel' && b.name === 'singlenamespace-alpha') as {
      entries: unknown[];
    };
    expect(channel.entries).toEqual([
      { name: 'etcdoperator.v0.9.0' },
      { name: 'etcdoperator.v0.9.2', replaces: 'etcdoperator.v0.9.0' },
    ]);
    expect((await validateCatalogDir(configs)).code).toBe(0);
  });

  it('when a deprecation_list names an added bundle, then that bundle is gone and its successor stays', async () => {
    const done = await result('deprecate');
    expect(done.state).toBe('complete');
    expect(done.deprecation_list).toEqual([etcd090]);
    const configs = await extract(done.index_image as string);
    const names = (await blobs(configs, 'etcd')).filter((b) => b.schema === 'olm.bundle').map((b) => b.name);
    expect(names).toEqual(['etcdoperator.v0.9.2']);
    expect((await validateCatalogDir(configs)).code).toBe(0);
  });

  it('when a package is removed, then its directory is gone and every other file is byte-identical', async () => {
    const done = await result('rm');
    expect([done.state, done.state_reason]).toEqual([
      'complete',
      'The operator(s) were successfully removed from the index image',
    ]);
    expect(done.removed_operators).toEqual(['kube-green']);
    expect(reasons(done)).toContain('Building the index image for the following arches: amd64, arm64');
    expect(await imageArches(done.index_image as string)).toEqual(['amd64', 'arm64']);
    const configs = await extract(done.index_image as string, 'arm64');
    const expected = new Map([...fromConfigs].filter(([f]) => !f.startsWith('kube-green/')));
    expect(expected.size).toBeLessThan(fromConfigs.size);
    expect(await tree(configs)).toEqual(expected);
    expect((await validateCatalogDir(configs)).code).toBe(0);
  });

  it("when an unknown package is removed, then the request fails with opm's message", async () => {
    const done = await result('rm-unknown');
    expect(done.state).toBe('failed');
    expect(done.state_reason).toBe(
      'error deleting packages from database: error removing operator package no-such-operator: no package found for packagename no-such-operator',
    );
  });

  it('when a bundle image does not exist, then the add fails with the tool error', async () => {
    const done = await result('no-bundle');
    expect(done.state).toBe('failed');
    expect(done.state_reason).toMatch(/^skopeo failed: .*(manifest unknown|name unknown|not found)/i);
    expect(done.state_reason).not.toMatch(/\n|\s at /);
  });

  it('when a bundle lacks a required label, then the add fails naming the bundle and the label', async () => {
    const foo = testImages.bundle('foo', '0.3.0');
    const done = await result('no-label');
    expect(done.state).toBe('failed');
    expect(done.state_reason).toBe(
      `The bundle ${registryHost}/fixtures/foo-bundle@${await digestOf(foo)} does not have the label ${MEDIATYPE}=registry+v1`,
    );
  });

  it('when a bundle layer holds a ../ path, then the add fails naming the entry', async () => {
    const done = await result('evil');
    expect(done.state).toBe('failed');
    expect(done.state_reason).toBe('image layer entry "../escape.txt" escapes the image root');
  });

  it('when a bundle has no CSV, then the reason names the bundle image, not the scratch directory', async () => {
    const done = await result('broken');
    expect(done.state).toBe('failed');
    const image = `${system.registry}/broken-bundle@${await digestOf(`${system.registry}/broken-bundle:v1`)}`;
    expect(done.state_reason).toBe(`${image}:/manifests: no bundle objects found`);
  });

  it('when check_related_images is set and a related image is missing, then the add fails listing only the missing one', async () => {
    const missing = `${system.registry}/missing-operand:v1`;
    const done = await result('related');
    expect(done.state).toBe('failed');
    expect(done.state_reason).toBe(`IIB cannot access the following related images ['${missing}']`);
  });

  it('when an add has no from_index, then the index starts empty on the add_arches', async () => {
    const done = await result('no-from-index');
    expect([done.state, done.state_reason]).toEqual([
      'complete',
      'The operator bundle(s) were successfully added to the index image',
    ]);
    expect(done.arches).toEqual(['amd64']);
    expect(done.from_index_resolved).toBeNull();
    expect(await imageArches(done.index_image as string)).toEqual(['amd64']);
    const configs = await extract(done.index_image as string);
    expect([...(await tree(configs)).keys()]).toEqual(['etcd/catalog.json']);
    expect((await imageConfig(done.index_image as string, 'amd64')).labels).toMatchObject({
      'com.redhat.index.delivery.version': 'v4.5',
      'com.redhat.index.delivery.distribution_scope': 'prod',
    });
    expect((await validateCatalogDir(configs)).code).toBe(0);
  });
});

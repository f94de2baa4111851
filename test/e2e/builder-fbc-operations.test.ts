import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { deprecateBundles, readCatalog, serializeBlock } from '@iib-ts/catalog';
import { testImages } from '../support/env';
import { pushTreeImage, readTree, requireRegistry, under, writeBundlesCatalog } from '../support/fbc-images';
import {
  extractFromImage,
  imageArches,
  imageConfig,
  submit,
  validateCatalogDir,
} from '../support/index-images';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';

jest.setTimeout(180_000);

describe('fbc-operations through the four services', () => {
  let system: RunningSystem;
  let work: string;
  let fromIndexTree: Map<string, Buffer>;
  const cleanups: string[] = [];
  /** fragment 1: kube-green truncated below v0.5.0; fragment 2: the new package bar; fragment 3: kube-green again. */
  const fragments: Record<'kubeGreen' | 'bar' | 'kubeGreenAgain' | 'broken', string> = {
    kubeGreen: '',
    bar: '',
    kubeGreenAgain: '',
    broken: '',
  };
  let kubeGreenJson: Buffer;
  let barTree: Map<string, Buffer>;

  beforeAll(async () => {
    await requireRegistry();
    system = await startSystem();
    work = await mkdtemp(path.join(os.tmpdir(), 'iib-fbc-ops-'));
    const from = await extractFromImage(testImages.index, 'amd64');
    cleanups.push(from.root);
    fromIndexTree = await readTree(from.dir);
    const repo = `${system.registry}/fragments`;

    // kube-green with its oldest bundles deprecated: a different, valid package.
    const catalog = await readCatalog(from.dir);
    const kg = catalog.packages.get('kube-green')!;
    const v050 = kg.bundles.find((b) => b.name === 'kube-green.v0.5.0')!.image;
    deprecateBundles(catalog, [v050]);
    kubeGreenJson = Buffer.from(serializeBlock(catalog.packages.get('kube-green')!));
    const kgDir = path.join(work, 'kg', 'kube-green');
    await mkdir(kgDir, { recursive: true });
    await writeFile(path.join(kgDir, 'catalog.json'), kubeGreenJson);
    fragments.kubeGreen = `${repo}:kube-green`;
    fragments.kubeGreenAgain = `${repo}:kube-green-again`;
    await pushTreeImage(fragments.kubeGreen, { dirs: { '/configs': path.dirname(kgDir) } });
    await pushTreeImage(fragments.kubeGreenAgain, { dirs: { '/configs': path.dirname(kgDir) } });

    const barDir = path.join(work, 'bar-fragment');
    await writeBundlesCatalog(barDir, [
      { op: 'bar', version: '0.1.0', image: testImages.bundle('bar', '0.1.0') },
      { op: 'bar', version: '0.2.0', image: testImages.bundle('bar', '0.2.0') },
    ]);
    barTree = await readTree(barDir);
    fragments.bar = `${repo}:bar`;
    await pushTreeImage(fragments.bar, { dirs: { '/configs': barDir }, arches: ['amd64', 'arm64'] });

    // A channel entry whose bundle is missing: opm validate refuses it.
    const brokenDir = path.join(work, 'broken', 'kubevirt-wol');
    await mkdir(brokenDir, { recursive: true });
    await writeFile(
      path.join(brokenDir, 'catalog.json'),
      JSON.stringify({ schema: 'olm.package', name: 'kubevirt-wol', defaultChannel: 'alpha' }) +
        JSON.stringify({
          schema: 'olm.channel',
          name: 'alpha',
          package: 'kubevirt-wol',
          entries: [{ name: 'kubevirt-wol.v9.9.9' }],
        }),
    );
    fragments.broken = `${repo}:broken`;
    await pushTreeImage(fragments.broken, { dirs: { '/configs': path.dirname(brokenDir) } });
  });

  afterAll(async () => {
    await system?.stop();
    for (const d of [...cleanups, work]) if (d) await rm(d, { recursive: true, force: true });
  });

  const expectOthersUntouched = (result: Map<string, Buffer>, changed: string[]): void => {
    for (const pkg of testImages.indexPackages.filter((p) => !changed.includes(p))) {
      const want = under(fromIndexTree, pkg);
      expect(want.size).toBeGreaterThan(0);
      expect(under(result, pkg)).toEqual(want);
    }
  };

  const checkImage = async (done: Record<string, unknown>): Promise<void> => {
    const image = done.index_image_resolved as string;
    expect(await imageArches(image)).toEqual(['amd64', 'arm64']);
    const cfg = await imageConfig(image, 'arm64');
    expect(cfg.labels).toMatchObject({
      'operators.operatorframework.io.index.configs.v1': '/configs',
      'com.redhat.index.delivery.version': 'v4.18',
      'com.redhat.index.delivery.distribution_scope': 'prod',
    });
  };

  it('when one legacy fbc_fragment replaces a package, then only that package directory changes and the catalog validates', async () => {
    const { status, json } = await submit(system.api, 'fbc-operations', {
      from_index: testImages.index,
      binary_image: testImages.binary,
      fbc_fragment: fragments.kubeGreen,
    });
    expect(status).toBe(201);
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state_reason).toBe('The 1 FBC fragment(s) were successfully added in the index image');
    expect(done.state).toBe('complete');
    expect(done.fbc_fragment).toBe(fragments.kubeGreen);
    expect(done.fbc_fragment_resolved).toMatch(/\/fragments@sha256:[0-9a-f]{64}$/);
    expect(done.arches).toEqual(['amd64', 'arm64']);
    const reasons = (done.state_history as { state_reason: string }[]).map((h) => h.state_reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'Resolving the fbc fragments',
        'Extracting operator packages from 1 fbc fragment(s)',
        "Adding package(s) ['kube-green'] from fbc fragment 1/1 to from_index",
        'Creating the manifest list',
      ]),
    );
    await checkImage(done);
    const out = await extractFromImage(done.index_image_resolved as string, 'arm64');
    cleanups.push(out.root);
    const tree = await readTree(out.dir);
    // The fragment's directory replaced the index's (catalog.yaml is gone).
    expect([...under(tree, 'kube-green').keys()]).toEqual(['kube-green/catalog.json']);
    expect(tree.get('kube-green/catalog.json')).toEqual(kubeGreenJson);
    expect(kubeGreenJson.toString()).not.toContain('"kube-green.v0.4.1"');
    expectOthersUntouched(tree, ['kube-green']);
    const v = await validateCatalogDir(out.dir);
    expect(v.output).toBe('');
    expect(v.code).toBe(0);
  });

  it('when two fbc_fragments are given, then both are applied, resolved in order, and the rest stays byte-identical', async () => {
    const { json } = await submit(system.api, 'fbc-operations', {
      from_index: testImages.index,
      binary_image: testImages.binary,
      fbc_fragments: [fragments.kubeGreen, fragments.bar],
      build_tags: ['fbc-two'],
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state_reason).toBe('The 2 FBC fragment(s) were successfully added in the index image');
    expect(done.fbc_fragments).toEqual([fragments.kubeGreen, fragments.bar]);
    const resolved = done.fbc_fragments_resolved as string[];
    expect(resolved).toHaveLength(2);
    resolved.forEach((r) => expect(r).toMatch(/@sha256:[0-9a-f]{64}$/));
    expect(resolved[0]).not.toBe(resolved[1]);
    expect(done.fbc_fragment).toBeNull();
    const reasons = (done.state_history as { state_reason: string }[]).map((h) => h.state_reason);
    expect(reasons).toContain("Adding package(s) ['bar'] from fbc fragment 2/2 to from_index");
    await checkImage(done);
    expect(await imageArches(`${system.registry}/iib-build:fbc-two`)).toEqual(['amd64', 'arm64']);
    const out = await extractFromImage(done.index_image_resolved as string, 'amd64');
    cleanups.push(out.root);
    const tree = await readTree(out.dir);
    expect(tree.get('kube-green/catalog.json')).toEqual(kubeGreenJson);
    expect(under(tree, 'bar')).toEqual(barTree);
    expectOthersUntouched(tree, ['kube-green']);
    expect(await validateCatalogDir(out.dir)).toMatchObject({ code: 0 });
  });

  it('when two fragments carry the same package, then the request fails naming both', async () => {
    const { json } = await submit(system.api, 'fbc-operations', {
      from_index: testImages.index,
      binary_image: testImages.binary,
      fbc_fragments: [fragments.kubeGreen, fragments.kubeGreenAgain],
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state).toBe('failed');
    expect(done.state_reason).toBe(
      `The fbc fragments ${fragments.kubeGreen} and ${fragments.kubeGreenAgain} both contain the package kube-green; a package can come from one fragment only`,
    );
  });

  it('when a fragment leaves the catalog invalid, then the request fails with opm validate’s message', async () => {
    const { json } = await submit(system.api, 'fbc-operations', {
      from_index: testImages.index,
      binary_image: testImages.binary,
      fbc_fragments: [fragments.broken],
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state).toBe('failed');
    expect(done.state_reason).toBe(
      'Failed to validate the content from config_dir /configs: no olm.bundle blobs found in package "kubevirt-wol" for olm.channel entries [kubevirt-wol.v9.9.9]',
    );
    expect(done.state_reason).not.toMatch(/\n\s+at /);
  });

  it('when a fragment image does not exist, then the request fails with skopeo’s error line', async () => {
    const { json } = await submit(system.api, 'fbc-operations', {
      from_index: testImages.index,
      binary_image: testImages.binary,
      fbc_fragment: `${system.registry}/fragments:missing`,
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state).toBe('failed');
    expect(done.state_reason).toMatch(/^skopeo failed: .*(manifest unknown|not found)/i);
  });
});

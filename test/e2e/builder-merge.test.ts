import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { readCatalog } from '@iib-ts/catalog';
import { testImages } from '../support/env';
import {
  digestRef,
  INDEX_LABELS,
  pushBundle,
  pushIndex,
  readTree,
  requireRegistry,
  under,
  writeBundlesCatalog,
} from '../support/fbc-images';
import {
  extractFromImage,
  imageArches,
  imageConfig,
  submit,
  validateCatalogDir,
} from '../support/index-images';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';

const run = promisify(execFile);

jest.setTimeout(180_000);

const OCP = 'com.redhat.openshift.versions';

describe('merge-index-image through the four services', () => {
  let system: RunningSystem;
  let work: string;
  const cleanups: string[] = [];
  const b: Record<string, string> = {};
  let source: string;
  let sourceTree: Map<string, Buffer>;
  let target: string;
  let source2: string;
  let target2: string;

  beforeAll(async () => {
    await requireRegistry();
    system = await startSystem();
    work = await mkdtemp(path.join(os.tmpdir(), 'iib-merge-'));
    const repo = system.registry;
    // Bundles of this run, labelled for OpenShift 4.12 and later; one only for =4.12.
    b.bar010 = await pushBundle(`${repo}/bar-bundle:v0.1.0`, 'bar', '0.1.0', { [OCP]: 'v4.12' });
    b.bar020 = await pushBundle(`${repo}/bar-bundle:v0.2.0`, 'bar', '0.2.0', { [OCP]: 'v4.12' });
    b.baz100 = await pushBundle(`${repo}/baz-bundle:v1.0.0`, 'baz', '1.0.0', { [OCP]: 'v4.12-v4.20' });
    b.baz110 = await pushBundle(`${repo}/baz-bundle:v1.1.0`, 'baz', '1.1.0', { [OCP]: 'v4.12,v4.13' });
    b.bar010old = await pushBundle(`${repo}/bar-bundle:v0.1.0-old`, 'bar', '0.1.0', { [OCP]: '=v4.12' });

    const sourceDir = path.join(work, 'source');
    await writeBundlesCatalog(sourceDir, [
      { op: 'bar', version: '0.1.0', image: b.bar010 },
      { op: 'baz', version: '1.0.0', image: b.baz100 },
      { op: 'baz', version: '1.1.0', image: b.baz110 },
    ]);
    sourceTree = await readTree(sourceDir);
    const targetDir = path.join(work, 'target');
    await writeBundlesCatalog(targetDir, [
      { op: 'bar', version: '0.1.0', image: b.bar010 },
      { op: 'bar', version: '0.2.0', image: b.bar020 },
      { op: 'baz', version: '1.0.0', image: b.baz100 },
    ]);
    source = await pushIndex(`${repo}/source:v4.17`, sourceDir, INDEX_LABELS('v4.17', 'prod'));
    target = `${repo}/target:v4.18`;
    await pushIndex(target, targetDir, { ...INDEX_LABELS('v4.18', 'stage'), 'io.iib-test': 'target' });

    // The same, but the source's bar 0.1.0 is the image only for OpenShift 4.12.
    const source2Dir = path.join(work, 'source2');
    await writeBundlesCatalog(source2Dir, [
      { op: 'bar', version: '0.1.0', image: b.bar010old },
      { op: 'baz', version: '1.0.0', image: b.baz100 },
      { op: 'baz', version: '1.1.0', image: b.baz110 },
    ]);
    source2 = await pushIndex(`${repo}/source2:v4.17`, source2Dir, INDEX_LABELS('v4.17', 'prod'));
    target2 = `${repo}/target2:v4.18`;
    await pushIndex(target2, targetDir, INDEX_LABELS('v4.18', 'prod'));
  });

  afterAll(async () => {
    await system?.stop();
    for (const d of [...cleanups, work]) if (d) await rm(d, { recursive: true, force: true });
  });

  const bundlesOf = async (dir: string, pkg: string): Promise<string[]> =>
    ((await readCatalog(dir)).packages.get(pkg)?.bundles ?? []).map((x) => `${x.name} ${x.image}`).sort();

  it('when the target has bundles the source lacks, then they are added, the target labels win and the target is overwritten', async () => {
    const targetBefore = await digestRef(target);
    const { status, json } = await submit(system.api, 'merge-index-image', {
      source_from_index: source,
      target_index: target,
      binary_image: testImages.binary,
      overwrite_target_index: true,
      overwrite_target_index_token: 'user:not-needed-here',
    });
    expect(status).toBe(201);
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state_reason).toBe('The index image was successfully cleaned and updated.');
    expect(done.state).toBe('complete');
    expect(done.source_from_index_resolved).toBe(source);
    expect(done.target_index_resolved).toBe(targetBefore);
    expect(done.distribution_scope).toBe('stage');
    expect(done.arches).toEqual(['amd64', 'arm64']);
    expect(done.index_image).toBe(target);
    const reasons = (done.state_history as { state_reason: string }[]).map((h) => h.state_reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'Getting bundles present in the index images',
        'Adding bundles missing in source index image',
        'Deprecating bundles in the deprecation list',
        `Overwriting the index image ${target} with ${system.registry}/iib-build:${json.id as number}`,
      ]),
    );
    const built = `${system.registry}/iib-build:${json.id as number}`;
    expect(await imageArches(built)).toEqual(['amd64', 'arm64']);
    const labels = (await imageConfig(built, 'arm64')).labels;
    expect(labels['com.redhat.index.delivery.version']).toBe('v4.18');
    expect(labels['com.redhat.index.delivery.distribution_scope']).toBe('stage');
    expect(labels['operators.operatorframework.io.index.configs.v1']).toBe('/configs');
    // The target tag now serves the merged index.
    expect(await digestRef(target)).not.toBe(targetBefore);
    expect(await imageArches(target)).toEqual(['amd64', 'arm64']);
    const overwritten = (await imageConfig(target, 'amd64')).labels;
    expect(overwritten['io.iib-test']).not.toBe('target');
    expect(overwritten['com.redhat.index.delivery.version']).toBe('v4.18');

    const out = await extractFromImage(built, 'amd64');
    cleanups.push(out.root);
    expect(await bundlesOf(out.dir, 'bar')).toEqual([`bar.v0.1.0 ${b.bar010}`, `bar.v0.2.0 ${b.bar020}`]);
    const tree = await readTree(out.dir);
    expect(under(tree, 'baz')).toEqual(under(sourceTree, 'baz'));
    expect(under(tree, 'bar')).not.toEqual(under(sourceTree, 'bar'));
    expect(await validateCatalogDir(out.dir)).toMatchObject({ code: 0 });
  });

  it('when a deprecation_list is given and a source bundle excludes the target OCP version, then both are deprecated', async () => {
    const { json } = await submit(system.api, 'merge-index-image', {
      source_from_index: source2,
      target_index: target2,
      binary_image: testImages.binary,
      deprecation_list: [`${system.registry}/baz-bundle:v1.0.0`],
      build_tags: ['merged-with-deprecations'],
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state_reason).toBe('The index image was successfully cleaned and updated.');
    expect(done.deprecation_list).toEqual([`${system.registry}/baz-bundle:v1.0.0`]);
    expect(done.index_image).toBe(`${system.registry}/iib-build:${json.id as number}`);
    const tagged = `${system.registry}/iib-build:merged-with-deprecations`;
    expect(await imageArches(tagged)).toEqual(['amd64', 'arm64']);
    const out = await extractFromImage(tagged, 'arm64');
    cleanups.push(out.root);
    // bar 0.1.0 (=v4.12 only) is gone, bar 0.2.0 from the target stays; baz 1.0.0 was listed.
    expect(await bundlesOf(out.dir, 'bar')).toEqual([`bar.v0.2.0 ${b.bar020}`]);
    expect(await bundlesOf(out.dir, 'baz')).toEqual([`baz.v1.1.0 ${b.baz110}`]);
    const v = await validateCatalogDir(out.dir);
    expect(v.output).toBe('');
    expect(v.code).toBe(0);
  });

  it('when the source index lists a bundle by tag, then the request fails saying it is not defined via digest', async () => {
    const { json } = await submit(system.api, 'merge-index-image', {
      source_from_index: testImages.index,
      target_index: target2,
      binary_image: testImages.binary,
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state).toBe('failed');
    expect(done.state_reason).toMatch(
      /^Bundle quay\.io\/\S+:[0-9.]+ in the source index image is not defined via digest$/,
    );
  });

  it('when the target is not a file-based catalog, then the request fails as IIB does', async () => {
    const { stdout } = await run('skopeo', ['inspect', '--raw', `docker://${testImages.binary}`]);
    expect(stdout).toContain('manifests');
    const { json } = await submit(system.api, 'merge-index-image', {
      source_from_index: source,
      target_index: testImages.binary,
      binary_image: testImages.binary,
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state).toBe('failed');
    expect(done.state_reason).toBe(
      'Cannot merge source File-Based Catalog index image into target SQLite index image.',
    );
  });
});

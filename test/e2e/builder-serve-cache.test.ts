import { appendFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { testImages } from '../support/env';
import {
  INDEX_LABELS,
  pushBundle,
  pushIndex,
  pushTreeImage,
  readTree,
  requireRegistry,
  writeBundlesCatalog,
} from '../support/fbc-images';
import { extractFromImage, imageConfig, skopeo, submit } from '../support/index-images';
import { mountImage, pushWithCmd, serveImage, type MountedImage } from '../support/serve-check';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';

jest.setTimeout(300_000);

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const CONFIGS_LABEL = 'operators.operatorframework.io.index.configs.v1';

async function mediaType(ref: string): Promise<string | undefined> {
  return (JSON.parse(await skopeo(['inspect', '--raw', `docker://${ref}`])) as { mediaType?: string })
    .mediaType;
}

/**
 * Every index request type must give an image that starts as its ENTRYPOINT
 * and CMD say: opm (here the stand-in of iib-test/binary-opm) refuses to serve
 * unless the image carries a serve cache made for exactly its /configs.
 */
describe('index images that opm serves, through the four services', () => {
  let system: RunningSystem;
  let work: string;
  let ociBundle: string;
  let ociIndex: string;
  let added: Record<string, unknown>;
  const mounted: MountedImage[] = [];
  const cleanups: string[] = [];

  beforeAll(async () => {
    await requireRegistry();
    system = await startSystem();
    work = await mkdtemp(path.join(os.tmpdir(), 'iib-serve-cache-'));
    // The fixtures, as OCI images: a bundle manifest and an index image index.
    ociBundle = `${system.registry}/oci-etcd-bundle:v0.9.0`;
    await skopeo([
      'copy',
      '--format',
      'oci',
      `docker://${testImages.bundle('etcd', '0.9.0')}`,
      `docker://${ociBundle}`,
    ]);
    ociIndex = `${system.registry}/oci-index:v4.18`;
    await skopeo([
      'copy',
      '--all',
      '--format',
      'oci',
      `docker://${testImages.index}`,
      `docker://${ociIndex}`,
    ]);
  });

  afterAll(async () => {
    for (const m of mounted) await m.remove();
    await system?.stop();
    for (const d of [...cleanups, work]) if (d) await rm(d, { recursive: true, force: true });
  });

  const run = async (endpoint: string, body: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const { status, json } = await submit(system.api, endpoint, body);
    expect(status).toBe(201);
    return waitForFinal(system.api, json.id as number);
  };

  const logsOf = async (id: number): Promise<string> =>
    (await fetch(`${system.api}/builds/${id}/logs`)).text();

  /** Mounts the built image's amd64 variant and starts it: it must keep running and listen. */
  const expectServes = async (done: Record<string, unknown>): Promise<MountedImage> => {
    expect(`${String(done.state)}: ${String(done.state_reason)}`).toMatch(/^complete: /);
    // merge-index-image reports index_image only (as IIB's API).
    const ref = (done.index_image_resolved ?? done.index_image) as string;
    const image = await mountImage(ref, 'amd64');
    mounted.push(image);
    expect(image.entrypoint).toEqual(['/bin/opm']);
    expect(image.cmd).toEqual(['serve', '/configs', '--cache-dir=/tmp/cache']);
    const served = await serveImage(image);
    expect(served.output).toMatch(/serving registry/);
    expect(served).toMatchObject({ alive: true, listening: true });
    return image;
  };

  it('when a bundle is added with a binary image that has opm, then the image serves, and without its cache or with another catalog it does not', async () => {
    expect(await mediaType(ociBundle)).toBe(OCI_MANIFEST);
    expect(await mediaType(ociIndex)).toBe(OCI_INDEX);
    added = await run('add', {
      from_index: ociIndex,
      binary_image: testImages.binaryOpm,
      bundles: [ociBundle],
    });
    expect(added.arches).toEqual(['amd64', 'arm64']);
    // The result is still a manifest list with every arch.
    expect(await mediaType(added.index_image_resolved as string)).toBe(DOCKER_LIST);
    const image = await expectServes(added);
    expect(await readdir(path.join(image.root, 'configs'))).toContain('etcd');
    expect(await logsOf(added.id as number)).toMatch(
      /serve cache made by the binary image's \/bin\/opm for \/tmp\/cache/,
    );

    // Another catalog than the one the cache was made for: refused, as opm refuses.
    await appendFile(path.join(image.root, 'configs', 'etcd', 'catalog.json'), '\n');
    const stale = await serveImage(image);
    expect(stale.alive).toBe(false);
    expect(stale.exitCode).not.toBe(0);
    expect(stale.output).toMatch(/level=fatal msg="cache requires rebuild/);
    // No cache at all: what every image built before this change did.
    await rm(path.join(image.root, 'tmp', 'cache'), { recursive: true });
    const none = await serveImage(image);
    expect(none.alive).toBe(false);
    expect(none.output).toMatch(
      /read existing cache digest: open \/tmp\/cache\/digest: no such file or directory/,
    );
  });

  it('when a package is removed from that image, then the layer over it carries the new cache and every arch has the same one', async () => {
    expect(added?.state).toBe('complete');
    const done = await run('rm', {
      from_index: added.index_image_resolved,
      binary_image: testImages.binaryOpm,
      operators: ['kube-green'],
    });
    expect(await logsOf(done.id as number)).toMatch(
      /pushing 1 changed packages as one layer over the from index/,
    );
    const image = await expectServes(done);
    expect(await readdir(path.join(image.root, 'configs'))).not.toContain('kube-green');
    const caches = await Promise.all(
      ['amd64', 'arm64'].map(async (arch) => {
        const out = await extractFromImage(done.index_image_resolved as string, arch, 'tmp/cache');
        cleanups.push(out.root);
        return readTree(out.dir);
      }),
    );
    expect(caches[0]!.size).toBeGreaterThan(1);
    expect(caches[1]).toEqual(caches[0]);
  });

  it('when create-empty-index, fbc-operations, add-deprecations and merge-index-image build with opm, then each image serves', async () => {
    await expectServes(
      await run('create-empty-index', { from_index: testImages.index, binary_image: testImages.binaryOpm }),
    );

    const from = await extractFromImage(testImages.index, 'amd64');
    cleanups.push(from.root);
    const fragmentDir = path.join(work, 'fragment');
    await mkdir(fragmentDir, { recursive: true });
    const fragment = await pushTreeImage(`${system.registry}/fragment:kube-green`, {
      dirs: { '/configs/kube-green': path.join(from.dir, 'kube-green') },
    });
    await expectServes(
      await run('fbc-operations', {
        from_index: testImages.index,
        binary_image: testImages.binaryOpm,
        fbc_fragments: [fragment],
      }),
    );

    await expectServes(
      await run('add-deprecations', {
        from_index: testImages.index,
        binary_image: testImages.binaryOpm,
        operator_package: 'kube-green',
        deprecation_schema: JSON.stringify({
          schema: 'olm.deprecations',
          package: 'kube-green',
          entries: [{ reference: { schema: 'olm.package' }, message: 'kube-green is end of life' }],
        }),
      }),
    );

    // merge needs bundles pinned by digest: an index of this run's own.
    // (labelled for the target's OpenShift version, or merge deprecates them away)
    const ocp = { 'com.redhat.openshift.versions': 'v4.12' };
    const bar = await pushBundle(`${system.registry}/bar-bundle:v0.1.0`, 'bar', '0.1.0', ocp);
    const baz = await pushBundle(`${system.registry}/baz-bundle:v1.0.0`, 'baz', '1.0.0', ocp);
    const sourceDir = path.join(work, 'merge-source');
    const targetDir = path.join(work, 'merge-target');
    await writeBundlesCatalog(sourceDir, [{ op: 'bar', version: '0.1.0', image: bar }]);
    await writeBundlesCatalog(targetDir, [{ op: 'baz', version: '1.0.0', image: baz }]);
    const merged = await run('merge-index-image', {
      source_from_index: await pushIndex(
        `${system.registry}/merge-source:v4.18`,
        sourceDir,
        INDEX_LABELS('v4.18', 'prod'),
      ),
      target_index: await pushIndex(
        `${system.registry}/merge-target:v4.18`,
        targetDir,
        INDEX_LABELS('v4.18', 'prod'),
      ),
      binary_image: testImages.binaryOpm,
    });
    const image = await expectServes(merged);
    expect((await readdir(path.join(image.root, 'configs'))).sort()).toEqual(['bar', 'baz']);
  });

  it('when the binary image is scratch, then every arch is /configs alone with the configs label and no command', async () => {
    const done = await run('add', {
      from_index: testImages.index,
      binary_image: 'scratch',
      bundles: [testImages.bundle('etcd', '0.9.0')],
    });
    expect(done.state).toBe('complete');
    expect(done.arches).toEqual(['amd64', 'arm64']);
    expect(done.binary_image).toBe('scratch');
    expect(done.binary_image_resolved).toBe('scratch');
    for (const arch of ['amd64', 'arm64']) {
      const cfg = await imageConfig(done.index_image_resolved as string, arch);
      expect(cfg.labels[CONFIGS_LABEL]).toBe('/configs');
      expect(cfg.entrypoint).toEqual([]);
      expect(cfg.cmd).toEqual([]);
      expect(cfg.layers).toBe(1);
    }
    const image = await mountImage(done.index_image_resolved as string, 'amd64');
    mounted.push(image);
    expect(await readdir(image.root)).toEqual(['configs']);
    expect(await readdir(path.join(image.root, 'configs'))).toEqual(
      expect.arrayContaining(['etcd', ...testImages.indexPackages]),
    );
  });

  it("when the binary image has no opm, then the image has no cache; when its opm cannot write one, then the request fails with opm's words and nothing is pushed", async () => {
    // (from the OCI copy of the fixture index, whose base is this binary image: a layer over an OCI index)
    const plain = await run('rm', {
      from_index: ociIndex,
      binary_image: testImages.binary,
      operators: ['kube-green'],
    });
    expect(plain.state).toBe('complete');
    const plainLogs = await logsOf(plain.id as number);
    expect(plainLogs).toMatch(/no serve cache: the binary image has no \/bin\/opm/);
    expect(plainLogs).toMatch(/pushing 1 changed packages as one layer over the from index/);
    expect(await mediaType(plain.index_image_resolved as string)).toBe(DOCKER_LIST);
    const image = await mountImage(plain.index_image_resolved as string, 'amd64');
    mounted.push(image);
    await expect(readdir(path.join(image.root, 'tmp', 'cache'))).rejects.toThrow(/ENOENT/);

    const broken = `${system.registry}/binary-opm-broken:v1`;
    await pushWithCmd(
      testImages.binaryOpm,
      broken,
      ['amd64', 'arm64'],
      ['serve', '/configs', '--cache-dir=/tmp/cache', '--no-such-flag'],
    );
    const failed = await run('rm', {
      from_index: testImages.index,
      binary_image: broken,
      operators: ['kube-green'],
    });
    expect(failed.state).toBe('failed');
    expect(failed.state_reason).toBe('/bin/opm could not make the serve cache: unknown flag: --no-such-flag');
    await expect(
      skopeo(['inspect', '--raw', `docker://${system.registry}/iib-build:${failed.id as number}`]),
    ).rejects.toThrow();
  });
});

/**
 * A bundle image whose layer attacks the builder's host, sent through the four
 * services: the add fails with a reason that names the image's own paths, and
 * nothing is written outside the request's directory.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { minimalBundle, pushCraftedImage } from '../support/crafted-images';
import { testImages } from '../support/env';
import { submit } from '../support/index-images';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';

jest.setTimeout(180_000);

describe('an add request with a hostile bundle layer', () => {
  let system: RunningSystem;
  let sentinel: string;

  beforeAll(async () => {
    sentinel = await mkdtemp(path.join(os.tmpdir(), 'iib-sentinel-'));
    await writeFile(path.join(sentinel, 'keep'), 'host data');
    system = await startSystem({ env: { IIB_BUILDER_CONCURRENCY: '2' } });
  });

  afterAll(async () => {
    await system?.stop();
    await rm(sentinel, { recursive: true, force: true });
  });

  const add = async (bundle: string): Promise<Record<string, unknown>> => {
    const { status, json } = await submit(system.api, 'add', {
      from_index: testImages.index,
      binary_image: testImages.binary,
      bundles: [bundle],
    });
    expect(status).toBe(201);
    return waitForFinal(system.api, json.id as number);
  };

  it('when the layer writes through a symlink to a host directory, then the add fails and the directory is untouched', async () => {
    const b = minimalBundle({ pkg: 'through-link', version: '0.1.0' });
    const ref = `${system.registry}/through-link-bundle:v1`;
    await pushCraftedImage(
      ref,
      [
        ...b.entries,
        { name: 'manifests/evil', type: 'symlink', linkname: sentinel },
        { name: 'manifests/evil/x.yaml', content: 'kind: Owned\n' },
        { name: 'manifests/up', type: 'symlink', linkname: '../../../../../../..' },
        { name: 'manifests/up/owned.txt', content: 'owned' },
      ],
      b.labels,
    );
    const done = await add(ref);
    expect(done.state).toBe('failed');
    const reason = done.state_reason as string;
    expect(reason).toMatch(
      /through-link-bundle@sha256:[0-9a-f]{64}:\/manifests\/(evil|up): is not a regular file$/,
    );
    expect(reason).not.toContain(sentinel);
    expect(reason).not.toContain(os.tmpdir());
    expect(await readdir(sentinel)).toEqual(['keep']);
  });

  it('when /manifests is a symlink to /etc, then the add fails without reading the host', async () => {
    const b = minimalBundle({ pkg: 'etc-link', version: '0.1.0' });
    const ref = `${system.registry}/etc-link-bundle:v1`;
    await pushCraftedImage(
      ref,
      [
        { name: 'manifests', type: 'symlink', linkname: '/etc' },
        ...b.entries.filter((e) => e.name.startsWith('metadata')),
      ],
      b.labels,
    );
    const done = await add(ref);
    expect(done.state).toBe('failed');
    const reason = done.state_reason as string;
    expect(reason).toMatch(/etc-link-bundle@sha256:[0-9a-f]{64}:\/manifests: directory not found$/);
    expect(reason).not.toMatch(/appstream|passwd|\/etc\//);
  });
});

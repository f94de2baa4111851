/**
 * Files extracted from a bundle image are read with a cap: a huge manifest is
 * refused with a reason that names the in-image file, before it is in memory.
 */
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_MANIFEST_BYTES, readBundleFile } from '../../services/builder/tools/layers/bounded-read';
import { loadOperatorCsv } from '../../services/builder/bundles/bundle-csv';
import { parseBundleDir } from '@iib-ts/catalog';

/** A sparse file: the size is declared without writing the bytes. */
async function sparse(file: string, size: number): Promise<void> {
  const fh = await open(file, 'w');
  await fh.truncate(size);
  await fh.close();
}

describe('reading extracted bundle files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bundle-reads-'));
    await mkdir(path.join(dir, 'manifests'));
    await mkdir(path.join(dir, 'metadata'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('when a manifest is larger than 16 MiB, then loading the CSV refuses it by its in-image name', async () => {
    await sparse(path.join(dir, 'manifests', 'huge.yaml'), MAX_MANIFEST_BYTES + 1);
    const err = await loadOperatorCsv(path.join(dir, 'manifests')).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('The bundle file manifests/huge.yaml is larger than 16777216 bytes');
  });

  it('when the catalog engine reads a manifest larger than 16 MiB, then it refuses it before reading', async () => {
    await sparse(path.join(dir, 'manifests', 'huge.yaml'), MAX_MANIFEST_BYTES + 1);
    await writeFile(path.join(dir, 'metadata', 'annotations.yaml'), 'annotations: {}\n');
    await expect(parseBundleDir(dir)).rejects.toThrow(/huge\.yaml: is larger than 16777216 bytes$/);
  });

  it('when a bundle file is a link to a directory or missing, then the reason names the in-image file only', async () => {
    await symlink('.', path.join(dir, 'manifests', 'loop.yaml'));
    await expect(
      readBundleFile(path.join(dir, 'manifests', 'loop.yaml'), 'manifests/loop.yaml'),
    ).rejects.toThrow(/^The bundle file manifests\/loop.yaml is not a regular file$/);
    const missing = await readBundleFile(
      path.join(dir, 'manifests', 'gone.yaml'),
      'manifests/gone.yaml',
    ).catch((e: unknown) => e as Error);
    expect((missing as Error).message).toBe('The bundle file manifests/gone.yaml cannot be read (ENOENT)');
    expect((missing as Error).message).not.toContain(dir);
  });

  it('when a bundle file is within the cap, then its text is read whole', async () => {
    await writeFile(path.join(dir, 'manifests', 'ok.yaml'), 'kind: ConfigMap\n');
    expect(await readBundleFile(path.join(dir, 'manifests', 'ok.yaml'), 'manifests/ok.yaml')).toBe(
      'kind: ConfigMap\n',
    );
  });
});

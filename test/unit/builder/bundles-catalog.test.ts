import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { splitPresent, type ResolvedBundle } from '../../../services/builder/bundles/bundles';
import { writeTouchedPackages } from '../../../services/builder/bundles/bundles-catalog';
import { readCatalog, removePackages } from '@iib-ts/catalog';

const pkgYaml = (name: string, image: string): string =>
  [
    `schema: olm.package\nname: ${name}\ndefaultChannel: alpha`,
    `schema: olm.channel\npackage: ${name}\nname: alpha\nentries:\n  - name: ${name}.v1.0.0`,
    `schema: olm.bundle\npackage: ${name}\nname: ${name}.v1.0.0\nimage: ${image}\nproperties:\n  - type: olm.package\n    value:\n      packageName: ${name}\n      version: 1.0.0`,
  ]
    .map((d) => `---\n${d}\n`)
    .join('');

const resolved = (image: string): ResolvedBundle => ({ ref: image, resolved: image, labels: {} });

describe('writing back only the packages a request touched', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'touched-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('when a package with a deprecations file is removed, then both go and every other file keeps its bytes', async () => {
    await mkdir(path.join(dir, 'a'));
    await mkdir(path.join(dir, 'b'));
    await mkdir(path.join(dir, '_operator-deprecations-content', 'b'), { recursive: true });
    const aText = pkgYaml('a', 'reg/a@sha256:aa');
    await writeFile(path.join(dir, 'a', 'catalog.yaml'), aText);
    await writeFile(path.join(dir, 'b', 'catalog.yaml'), pkgYaml('b', 'reg/b@sha256:bb'));
    await writeFile(
      path.join(dir, '_operator-deprecations-content', 'b', 'b.json'),
      JSON.stringify({ schema: 'olm.deprecations', package: 'b', entries: [] }),
    );
    const catalog = await readCatalog(dir);
    const before = new Map(catalog.packages);
    const removed = removePackages(catalog, ['b']);

    const changed = await writeTouchedPackages(dir, before, catalog, removed);

    expect(changed).toEqual(new Set(['b', '_operator-deprecations-content']));
    expect((await readdir(dir)).sort()).toEqual(['_operator-deprecations-content', 'a']);
    expect(await readdir(path.join(dir, '_operator-deprecations-content'))).toEqual([]);
    expect(await readFile(path.join(dir, 'a', 'catalog.yaml'), 'utf8')).toBe(aText);
  });

  it('when a touched package shares a file with another, then the whole catalog is rewritten and changes are unknown', async () => {
    await writeFile(
      path.join(dir, 'all.yaml'),
      pkgYaml('a', 'reg/a@sha256:aa') + pkgYaml('b', 'reg/b@sha256:bb'),
    );
    const catalog = await readCatalog(dir);
    const before = new Map(catalog.packages);
    const removed = removePackages(catalog, ['b']);

    const changed = await writeTouchedPackages(dir, before, catalog, removed);

    expect(changed).toBeUndefined();
    expect([...(await readCatalog(dir)).packages.keys()]).toEqual(['a']);
    expect((await readdir(dir)).sort()).toEqual(['a']);
  });

  it("when a bundle's digest is in the catalog under another repository, then it counts as present (IIB's rule)", async () => {
    await mkdir(path.join(dir, 'a'));
    await writeFile(path.join(dir, 'a', 'catalog.yaml'), pkgYaml('a', 'quay.io/x/a@sha256:aa11'));
    const catalog = await readCatalog(dir);
    const split = splitPresent(catalog, [
      resolved('localhost:5000/mirror/a@sha256:aa11'),
      resolved('quay.io/x/a@sha256:bb22'),
    ]);
    expect(split.present.map((b) => b.resolved)).toEqual(['localhost:5000/mirror/a@sha256:aa11']);
    expect(split.missing.map((b) => b.resolved)).toEqual(['quay.io/x/a@sha256:bb22']);
  });
});

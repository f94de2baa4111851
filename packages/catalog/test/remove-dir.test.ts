import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCatalog } from '../src/catalog-io';
import { CatalogError } from '../src/errors';
import { removePackages, removePackagesFromDir } from '../src/remove';

const DEPRECATIONS = '_operator-deprecations-content';

function blobs(pkg: string, extra: Record<string, unknown> = {}): string {
  return [
    { schema: 'olm.package', name: pkg, defaultChannel: 'stable', ...extra },
    { schema: 'olm.channel', name: 'stable', package: pkg, entries: [{ name: `${pkg}.v1` }] },
    { schema: 'olm.bundle', name: `${pkg}.v1`, package: pkg, image: `example.com/${pkg}:v1` },
  ]
    .map((b) => `${JSON.stringify(b, null, 4)}\n`)
    .join('');
}

/** A catalog directory from `files` (path -> text). */
async function catalogOf(files: Record<string, string>): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'catalog-rm-'));
  for (const [rel, text] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fsp.writeFile(path.join(dir, rel), text);
  }
  return dir;
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of await fsp.readdir(dir, { recursive: true })) {
    const full = path.join(dir, rel);
    if ((await fsp.stat(full)).isFile()) out[rel] = await fsp.readFile(full, 'utf8');
  }
  return out;
}

/** What the whole-catalog path leaves: the packages removePackages keeps, by name. */
async function packagesAfterInMemoryRemove(dir: string, packages: string[]): Promise<string[]> {
  const catalog = await readCatalog(dir);
  removePackages(catalog, packages);
  return [...catalog.packages.keys()].sort();
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
});

async function fixture(files: Record<string, string>): Promise<string> {
  const dir = await catalogOf(files);
  dirs.push(dir);
  return dir;
}

describe('removePackagesFromDir when each package has its own directory', () => {
  it('when the package has its own directory, then only that directory goes and every other file stays as it was', async () => {
    const dir = await fixture({
      'a/catalog.json': blobs('a'),
      'b/catalog.yaml':
        'schema: olm.package\nname: b\ndefaultChannel: s\n---\nschema: olm.channel\nname: s\npackage: b\nentries:\n- name: b.v1\n',
      'c/catalog.json': blobs('c', { description: 'works well with a' }),
    });
    const expected = await packagesAfterInMemoryRemove(dir, ['a']);
    const before = await snapshot(dir);
    const result = await removePackagesFromDir(dir, ['a']);
    expect(result).toEqual({ removed: new Set(['a']), changed: new Set(['a']) });
    const after = await snapshot(dir);
    delete before['a/catalog.json'];
    expect(after).toEqual(before);
    expect([...(await readCatalog(dir)).packages.keys()].sort()).toEqual(expected);
  });

  it('when the package has a companion directory, then it goes too and is reported as changed', async () => {
    const deprecation = JSON.stringify({ schema: 'olm.deprecations', package: 'a', entries: [] });
    const dir = await fixture({
      'a/catalog.json': blobs('a'),
      'b/catalog.json': blobs('b'),
      [`${DEPRECATIONS}/a/a.json`]: deprecation,
      [`${DEPRECATIONS}/b/b.json`]: JSON.stringify({ schema: 'olm.deprecations', package: 'b', entries: [] }),
    });
    const result = await removePackagesFromDir(dir, ['a'], { companionDirs: [DEPRECATIONS] });
    expect(result.changed).toEqual(new Set(['a', DEPRECATIONS]));
    expect(existsSync(path.join(dir, DEPRECATIONS, 'a'))).toBe(false);
    expect(existsSync(path.join(dir, DEPRECATIONS, 'b', 'b.json'))).toBe(true);
    expect(existsSync(path.join(dir, 'b', 'catalog.json'))).toBe(true);
  });
});

describe('removePackagesFromDir when the layout does not allow it', () => {
  it('when another file holds a blob of the package, then the whole catalog is rewritten without it', async () => {
    const stray = JSON.stringify({
      schema: 'olm.bundle',
      name: 'a.v0',
      package: 'a',
      image: 'example.com/a:v0',
    });
    const dir = await fixture({ 'a/catalog.json': blobs('a'), 'b/catalog.json': blobs('b') + stray });
    const result = await removePackagesFromDir(dir, ['a']);
    expect(result).toEqual({ removed: new Set(['a']), changed: undefined });
    const catalog = await readCatalog(dir);
    expect([...catalog.packages.keys()]).toEqual(['b']);
    expect(await fsp.readFile(path.join(dir, 'b', 'catalog.json'), 'utf8')).not.toContain('a.v0');
  });

  it("when the package's directory holds another package's blobs, then the whole catalog is rewritten", async () => {
    const dir = await fixture({ 'a/catalog.json': blobs('a') + blobs('b') });
    const result = await removePackagesFromDir(dir, ['a']);
    expect(result.changed).toBeUndefined();
    expect([...(await readCatalog(dir)).packages.keys()]).toEqual(['b']);
    expect(existsSync(path.join(dir, 'b', 'catalog.json'))).toBe(true);
  });
});

describe('removePackagesFromDir with unknown or several packages', () => {
  it.each([
    ['an unknown package', { 'a/catalog.json': blobs('a') }, ['a', 'x'], 'x'],
    ['a package named twice', { 'a/catalog.json': blobs('a') }, ['a', 'a'], 'a'],
    [
      'a package with no bundle and no channel',
      {
        'a/catalog.json': blobs('a'),
        'p/catalog.json': '{"schema":"olm.package","name":"p","defaultChannel":""}',
      },
      ['p'],
      'p',
    ],
  ])(
    "when rm names %s, then it fails with opm's error and changes nothing",
    async (_what, files, pkgs, bad) => {
      const dir = await fixture(files);
      const before = await snapshot(dir);
      const err = await removePackagesFromDir(dir, pkgs).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CatalogError);
      expect((err as Error).message).toBe(
        `error deleting packages from database: error removing operator package ${bad}: no package found for packagename ${bad}`,
      );
      expect(await snapshot(dir)).toEqual(before);
    },
  );

  it('when the catalog directory does not exist, then the package is unknown', async () => {
    const missing = path.join(os.tmpdir(), 'catalog-rm-missing-does-not-exist');
    await expect(removePackagesFromDir(missing, ['a'])).rejects.toThrow(/no package found for packagename a/);
  });

  it('when two packages are removed, then both directories go at once', async () => {
    const dir = await fixture({
      'a/catalog.json': blobs('a'),
      'b/catalog.json': blobs('b'),
      'c/catalog.json': blobs('c'),
    });
    const result = await removePackagesFromDir(dir, ['a', 'c']);
    expect(result.changed).toEqual(new Set(['a', 'c']));
    expect(Object.keys(await snapshot(dir))).toEqual(['b/catalog.json']);
  });
});

describe('readCatalog', () => {
  it('when each package has its own catalog.json, then each can be written back by linking it', async () => {
    const dir = await fixture({
      'a/catalog.json': blobs('a'),
      'b/catalog.json': blobs('b'),
      'c/x.json': blobs('c'),
    });
    const catalog = await readCatalog(dir);
    expect(catalog.packages.get('a')?.original).toEqual({ file: path.join(dir, 'a', 'catalog.json') });
    expect(catalog.packages.get('b')?.original).toBeDefined();
    expect(catalog.packages.get('c')?.original).toBeUndefined();
  });

  it('when a later file adds to a package, then that package is no longer linked back', async () => {
    const more = JSON.stringify({
      schema: 'olm.bundle',
      name: 'a.v2',
      package: 'a',
      image: 'example.com/a:v2',
    });
    const dir = await fixture({ 'a/catalog.json': blobs('a'), 'b/catalog.json': blobs('b') + more });
    const catalog = await readCatalog(dir);
    expect(catalog.packages.get('a')?.original).toBeUndefined();
    expect(catalog.packages.get('a')?.sources).toHaveLength(2);
    expect(catalog.packages.get('b')?.original).toBeUndefined();
  });
});

/**
 * The layer extractor against hostile layers, on the real filesystem: every
 * attack must leave the host untouched (a sentinel directory outside the
 * root stays as it was) and every failure must name in-image paths only.
 */
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBuilderConfig } from '../../shared/config';
import { ValidationError } from '../../shared/errors';
import {
  extractLayers,
  extractLimits,
  type ExtractLimits,
} from '../../services/builder/tools/layers/layer-extractor';
import { ustarHeader, writeLayer, zeroBomb, type LayerEntry } from '../support/layers';

const defaults = extractLimits(loadBuilderConfig({ IIB_REGISTRY: 'localhost:5000/iib' }));
const GiB = 1024 * 1024 * 1024;

describe('extracting image layers', () => {
  let base: string;
  let root: string;
  let layersDir: string;
  let sentinel: string;
  let layerCount = 0;

  beforeEach(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'extract-'));
    root = path.join(base, 'root');
    layersDir = path.join(base, 'layers');
    await mkdir(layersDir);
    // What an attack would aim at: a directory outside the root that must stay as it is.
    sentinel = await mkdtemp(path.join(os.tmpdir(), 'sentinel-'));
    await writeFile(path.join(sentinel, 'keep'), 'host data');
  });

  afterEach(async () => {
    expect(await readdir(sentinel)).toEqual(['keep']);
    expect(await readFile(path.join(sentinel, 'keep'), 'utf8')).toBe('host data');
    expect((await readdir(base)).sort()).toEqual(['layers', 'root']);
    await rm(base, { recursive: true, force: true });
    await rm(sentinel, { recursive: true, force: true });
  });

  async function layer(entries: LayerEntry[], gzip = true): Promise<string> {
    layerCount += 1;
    return writeLayer(layersDir, `layer-${layerCount}.tar${gzip ? '.gz' : ''}`, entries, gzip);
  }

  function run(layers: string[], prefix = 'configs', limits: Partial<ExtractLimits> = {}): Promise<void> {
    return extractLayers(layers, prefix, root, { ...defaults, ...limits });
  }

  function expectNoHostPath(message: string): void {
    for (const hostPath of [
      root,
      base,
      sentinel,
      layersDir,
      os.tmpdir(),
      process.cwd(),
      '/etc/',
      'appstream',
    ]) {
      expect(message).not.toContain(hostPath);
    }
  }

  async function expectRefused(p: Promise<unknown>, pattern: RegExp): Promise<void> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(pattern);
    expectNoHostPath((err as Error).message);
  }

  /** How long `work` took and how far the process's resident memory rose above where it started. */
  async function measured(work: () => Promise<void>): Promise<{ ms: number; rssGrowth: number }> {
    const before = process.memoryUsage.rss();
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 10);
    const started = Date.now();
    try {
      await work();
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage.rss());
    return { ms: Date.now() - started, rssGrowth: peak - before };
  }

  /** Every path under the root resolves (on the host, links followed) to a place inside it. */
  async function expectAllInside(dir = root): Promise<void> {
    const realRoot = await realpath(root);
    for (const name of await readdir(dir)) {
      const p = path.join(dir, name);
      const real = await realpath(p).catch(() => undefined);
      if (real !== undefined) expect(real === realRoot || real.startsWith(`${realRoot}/`)).toBe(true);
      const st = await lstat(p);
      if (st.isDirectory()) await expectAllInside(p);
    }
  }

  describe('when a layer is hostile', () => {
    it('when an absolute symlink leads out of the prefix and a file is written through it, then it is refused', async () => {
      const l = await layer([
        { name: 'manifests/evil', type: 'symlink', linkname: sentinel },
        { name: 'manifests/evil/x', body: 'owned' },
      ]);
      await expectRefused(
        run([l], 'manifests'),
        /image layer entry "manifests\/evil" is a link that leads outside \/manifests/,
      );
    });

    it('when an absolute symlink is extracted with the whole image, then writing through it stays inside the root', async () => {
      const l = await layer([
        { name: 'evil', type: 'symlink', linkname: sentinel },
        { name: 'evil/x', body: 'owned' },
        { name: 'tmp-link', type: 'symlink', linkname: '/' },
        { name: 'tmp-link/y', body: 'owned too' },
      ]);
      await run([l], '');
      const inRoot = path.join(root, ...sentinel.split('/').filter(Boolean));
      expect(await readFile(path.join(inRoot, 'x'), 'utf8')).toBe('owned');
      expect(await readlink(path.join(root, 'evil'))).toBe(path.relative(root, inRoot));
      expect(await readlink(path.join(root, 'tmp-link'))).toBe('.');
      expect(await readFile(path.join(root, 'y'), 'utf8')).toBe('owned too');
      await expectAllInside();
    });

    it('when a relative ../../.. symlink is written through, then it is refused under a prefix and clamped at the root otherwise', async () => {
      const l = await layer([
        { name: 'configs/up', type: 'symlink', linkname: '../../../../../../..' },
        { name: 'configs/up/x', body: 'owned' },
      ]);
      await expectRefused(run([l]), /"configs\/up" is a link that leads outside \/configs/);
      await rm(root, { recursive: true });
      await run([l], '');
      expect(await readlink(path.join(root, 'configs/up'))).toBe('..');
      expect(await readFile(path.join(root, 'x'), 'utf8')).toBe('owned');
      await expectAllInside();
    });

    it('when symlinks are chained towards the host, then the chain never leaves the root', async () => {
      const l = await layer([
        { name: 'configs/a', type: 'symlink', linkname: 'b' },
        { name: 'configs/b', type: 'symlink', linkname: '../../c' },
        { name: 'c', type: 'symlink', linkname: sentinel },
        { name: 'configs/a/x', body: 'owned' },
      ]);
      await run([l], '');
      // a -> b -> /c (clamped) -> <root><sentinel>: x lands in the root's copy of the path.
      const inRoot = path.join(root, ...sentinel.split('/').filter(Boolean));
      expect(await readFile(path.join(inRoot, 'x'), 'utf8')).toBe('owned');
      expect(await readFile(path.join(root, 'configs/a/x'), 'utf8')).toBe('owned');
      await expectAllInside();
      await rm(root, { recursive: true });
      await expectRefused(run([l]), /"configs\/b" is a link that leads outside \/configs/);
    });

    it('when a link loops, then it is refused as a loop', async () => {
      const l = await layer([
        { name: 'configs/a', type: 'symlink', linkname: 'b' },
        { name: 'configs/b', type: 'symlink', linkname: 'a' },
        { name: 'configs/a/x', body: 'x' },
      ]);
      await expectRefused(run([l]), /"configs\/a\/x" goes through more than 40 links/);
    });

    it('when a name makes one resolution walk too many components, then it is refused', async () => {
      const deep = 'a/'.repeat(1100);
      const l = await layer([
        { name: `configs/${deep}f`, body: 'f' },
        { name: 'configs/l', type: 'symlink', linkname: '.' },
        { name: 'configs/h', type: 'link', linkname: `configs/l/${deep}f` },
      ]);
      await expectRefused(
        run([l]),
        /^image layer entry "configs\/h" goes through more than 1024 path components$/,
      );
    });

    it('when an earlier layer made a parent directory a symlink, then later entries below it stay inside', async () => {
      const l1 = await layer([{ name: 'configs/pkg', type: 'symlink', linkname: '/' }]);
      const l2 = await layer([{ name: 'configs/pkg/etc/cron.d/job', body: 'owned' }]);
      await expectRefused(run([l1, l2]), /"configs\/pkg" is a link that leads outside \/configs/);
      await rm(root, { recursive: true });
      await run([l1, l2], '');
      expect(await readFile(path.join(root, 'etc/cron.d/job'), 'utf8')).toBe('owned');
      await expectAllInside();
    });

    it('when the prefix itself is a symlink to /etc, then it is refused and nothing of the host is read', async () => {
      const l = await layer([
        { name: 'manifests', type: 'symlink', linkname: '/etc' },
        { name: 'manifests/appstream.conf', body: 'x' },
      ]);
      await expectRefused(run([l], 'manifests'), /^image layer entry "manifests" must be a directory$/);
      expect(await readdir(root)).toEqual([]);
    });

    it('when a whole-image extraction holds manifests -> /etc, then reading manifests reads the image, not the host', async () => {
      const l = await layer([{ name: 'manifests', type: 'symlink', linkname: '/etc' }]);
      await run([l], '');
      expect(await readlink(path.join(root, 'manifests'))).toBe('etc');
      await expect(readdir(path.join(root, 'manifests'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('when a hard link names /etc/passwd or ../../x, then it is refused', async () => {
      const passwd = await layer([{ name: 'configs/passwd', type: 'link', linkname: '/etc/passwd' }]);
      await expectRefused(
        run([passwd]),
        /"configs\/passwd" is a hard link to something that is not a file extracted under \/configs/,
      );
      const up = await layer([{ name: 'configs/up', type: 'link', linkname: '../../x' }]);
      await expectRefused(run([up]), /"configs\/up" is a hard link that escapes the image root/);
      const viaLink = await layer([
        { name: 'configs/d', type: 'symlink', linkname: '.' },
        { name: 'configs/h', type: 'link', linkname: 'configs/d' },
      ]);
      await expectRefused(run([viaLink]), /"configs\/h" is a hard link to something that is not a file/);
      await expect(lstat(path.join(root, 'configs/passwd'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('when entry names are absolute, then they land under the root', async () => {
      const l = await layer([
        { name: '/configs/abs.json', body: '{}' },
        { name: `${sentinel}/x`, body: 'owned' },
      ]);
      await run([l], '');
      expect(await readFile(path.join(root, 'configs/abs.json'), 'utf8')).toBe('{}');
      expect(await readFile(path.join(root, ...sentinel.split('/').filter(Boolean), 'x'), 'utf8')).toBe(
        'owned',
      );
    });

    it('when an entry name holds .., then it is refused', async () => {
      const l = await layer([{ name: 'configs/../../x', body: 'owned' }]);
      await expectRefused(run([l]), /^image layer entry "configs\/..\/..\/x" escapes the image root$/);
      await expect(stat(path.join(base, 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('when a layer holds devices and FIFOs, then none is created', async () => {
      const l = await layer([
        { name: 'configs/null', type: 'character-device' },
        { name: 'configs/sda', type: 'block-device' },
        { name: 'configs/pipe', type: 'fifo' },
        { name: 'configs/ok', body: 'ok' },
      ]);
      await run([l]);
      expect(await readdir(path.join(root, 'configs'))).toEqual(['ok']);
    });

    it('when files and directories carry setuid, setgid or sticky bits, then the bits are dropped', async () => {
      const l = await layer([
        { name: 'configs/dir', type: 'directory', mode: 0o3777 },
        { name: 'configs/dir/suid', body: '#!/bin/sh', mode: 0o6755 },
      ]);
      await run([l]);
      expect((await stat(path.join(root, 'configs/dir'))).mode & 0o7000).toBe(0);
      const file = await stat(path.join(root, 'configs/dir/suid'));
      expect(file.mode & 0o7000).toBe(0);
      expect(file.mode & 0o700).toBe(0o700);
    });

    it('when whiteouts go through a link towards the host, then host files survive', async () => {
      const l1 = await layer([{ name: 'evil', type: 'symlink', linkname: sentinel }]);
      const l2 = await layer([{ name: 'evil/.wh.keep' }, { name: 'evil/.wh..wh..opq' }]);
      await run([l1, l2], '');
      const l3 = await layer([{ name: 'configs/.wh...' }]);
      await rm(root, { recursive: true });
      await expectRefused(run([l3]), /"configs\/.wh..." is not a valid whiteout/);
    });

    it('when a layer is a 1 GiB bomb as one file under the prefix, then it fails at once with low memory', async () => {
      const bomb = path.join(layersDir, 'bomb.tar.gz');
      await writeFile(bomb, zeroBomb(ustarHeader('configs/zero', GiB), GiB));
      const { ms, rssGrowth } = await measured(() =>
        expectRefused(run([bomb]), /^image layer entry "configs\/zero" exceeds 268435456 bytes$/),
      );
      expect(ms).toBeLessThan(2000);
      expect(rssGrowth).toBeLessThan(100 * 1024 * 1024);
    });

    it('when a skipped entry or plain zero blocks inflate past the read limit, then reading stops with bounded memory', async () => {
      const skipped = path.join(layersDir, 'skipped.tar.gz');
      await writeFile(skipped, zeroBomb(ustarHeader('usr/lib/big', GiB), GiB));
      await expectRefused(
        run([skipped], 'configs', { maxReadBytes: 512 * 1024 * 1024 }),
        /^image layers exceed 536870912 uncompressed bytes$/,
      );

      // No header declares the size here: only counting what gunzip hands the parser can stop it.
      const blocks = path.join(layersDir, 'blocks.tar.gz');
      await writeFile(blocks, zeroBomb(Buffer.alloc(512), GiB));
      const { ms, rssGrowth } = await measured(() =>
        expectRefused(
          run([blocks], 'configs', { maxReadBytes: 256 * 1024 * 1024 }),
          /^image layers exceed 268435456 uncompressed bytes$/,
        ),
      );
      expect(ms).toBeLessThan(30_000);
      expect(rssGrowth).toBeLessThan(100 * 1024 * 1024);
    });

    it('when the files under the prefix exceed the written-bytes limit, then extraction stops', async () => {
      const l = await layer([
        { name: 'configs/a', body: 'x'.repeat(600) },
        { name: 'configs/b', body: 'x'.repeat(600) },
      ]);
      await expectRefused(
        run([l], 'configs', { maxBytes: 1000 }),
        /^image layers exceed the extraction limit of 1000 bytes$/,
      );
    });

    it('when a layer holds too many files or entries, then it is refused with the limit', async () => {
      const many = Array.from({ length: 101 }, (_, i) => ({ name: `configs/f${i}`, body: '' }));
      const l = await layer(many);
      await expectRefused(
        run([l], 'configs', { maxFiles: 100 }),
        /^image layers hold more than 100 files under \/configs$/,
      );
      await rm(root, { recursive: true });
      const skipped = await layer(many.map((e) => ({ ...e, name: `usr/${e.name}` })));
      await expectRefused(
        run([skipped], 'configs', { maxEntries: 100 }),
        /^image layers hold more than 100 entries$/,
      );
      expect(await readdir(path.join(root))).toEqual([]);
    });

    it('when names are too long, then they are refused before any filesystem call', async () => {
      const longPart = await layer([{ name: `configs/${'a'.repeat(300)}`, body: 'x' }]);
      await expectRefused(run([longPart]), /has a path component longer than 255 bytes$/);
      const longPath = await layer([{ name: `configs/${'abcdefgh/'.repeat(500)}x`, body: 'x' }]);
      await expectRefused(run([longPath]), /is longer than 4096 bytes$/);
      const longLink = await layer([{ name: 'configs/l', type: 'symlink', linkname: 'b/'.repeat(2100) }]);
      await expectRefused(
        run([longLink]),
        /^image layer entry "configs\/l" is a link whose target is longer than 4096 bytes$/,
      );
    });

    it('when a layer is not a tar archive, then the message names the layer only', async () => {
      const junk = path.join(layersDir, 'junk');
      await writeFile(junk, Buffer.alloc(600, 7));
      await expectRefused(run([junk]), /^image layer 1 is not a valid tar archive/);
    });
  });

  describe('when a layer is legitimate', () => {
    it('then files, directories and later layers win, and whiteouts remove lower files', async () => {
      const l1 = await layer([
        { name: 'configs/', type: 'directory' },
        { name: 'configs/a/catalog.json', body: 'a1' },
        { name: 'configs/b/catalog.json', body: 'b1' },
        { name: 'configs/c.json', body: 'c1' },
        { name: 'bin/opm', body: 'binary' },
      ]);
      const l2 = await layer(
        [
          { name: 'configs/a/catalog.json', body: 'a2' },
          { name: 'configs/.wh.b' },
          { name: 'configs/.wh.c.json' },
        ],
        false,
      );
      await run([l1, l2], '/configs');
      expect(await readdir(path.join(root, 'configs'))).toEqual(['a']);
      expect(await readFile(path.join(root, 'configs/a/catalog.json'), 'utf8')).toBe('a2');
      await expect(readdir(path.join(root, 'bin'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('then in-root relative and absolute symlinks are kept as relative links that read the right file', async () => {
      const l = await layer([
        { name: 'configs/v2/catalog.json', body: 'v2' },
        { name: 'configs/latest', type: 'symlink', linkname: 'v2' },
        { name: 'configs/pkg/abs.json', type: 'symlink', linkname: '/configs/v2/catalog.json' },
        { name: 'configs/pkg/up.json', type: 'symlink', linkname: '../../configs/latest/catalog.json' },
        { name: 'configs/latest/extra.json', body: 'through the link' },
      ]);
      await run([l]);
      expect(await readlink(path.join(root, 'configs/latest'))).toBe('v2');
      expect(await readlink(path.join(root, 'configs/pkg/abs.json'))).toBe('../v2/catalog.json');
      expect(await readlink(path.join(root, 'configs/pkg/up.json'))).toBe('../v2/catalog.json');
      expect(await readFile(path.join(root, 'configs/pkg/abs.json'), 'utf8')).toBe('v2');
      expect(await readFile(path.join(root, 'configs/pkg/up.json'), 'utf8')).toBe('v2');
      expect(await readFile(path.join(root, 'configs/v2/extra.json'), 'utf8')).toBe('through the link');
      // The callers move the prefix directory away: its links must still read inside it.
      await rename(path.join(root, 'configs'), path.join(root, 'moved'));
      expect(await readFile(path.join(root, 'moved/pkg/up.json'), 'utf8')).toBe('v2');
      await rename(path.join(root, 'moved'), path.join(root, 'configs'));
      await expectAllInside();
    });

    it('then hard links inside the prefix share the file, and rewriting one name leaves the other', async () => {
      const l1 = await layer([
        { name: 'configs/a.json', body: 'same' },
        { name: 'configs/b.json', type: 'link', linkname: 'configs/a.json' },
      ]);
      const l2 = await layer([{ name: 'configs/b.json', body: 'changed' }]);
      await run([l1]);
      expect((await stat(path.join(root, 'configs/b.json'))).ino).toBe(
        (await stat(path.join(root, 'configs/a.json'))).ino,
      );
      await rm(root, { recursive: true });
      await run([l1, l2]);
      expect(await readFile(path.join(root, 'configs/a.json'), 'utf8')).toBe('same');
      expect(await readFile(path.join(root, 'configs/b.json'), 'utf8')).toBe('changed');
    });

    it('then an opaque directory hides lower layers but keeps what its own layer wrote', async () => {
      const l1 = await layer([
        { name: 'configs/pkg/old.json', body: 'old' },
        { name: 'configs/pkg/sub/older.json', body: 'older' },
        { name: 'configs/other.json', body: 'other' },
      ]);
      const l2 = await layer([
        { name: 'configs/pkg/new.json', body: 'new' },
        { name: 'configs/pkg/.wh..wh..opq' },
        { name: 'configs/pkg/later.json', body: 'later' },
      ]);
      await run([l1, l2]);
      expect((await readdir(path.join(root, 'configs/pkg'))).sort()).toEqual(['later.json', 'new.json']);
      expect(await readdir(path.join(root, 'configs'))).toEqual(['other.json', 'pkg'].sort());
    });

    it('then whiteouts through an in-prefix symlinked directory remove the right file', async () => {
      const l1 = await layer([
        { name: 'configs/real/a.json', body: 'a' },
        { name: 'configs/real/b.json', body: 'b' },
        { name: 'configs/alias', type: 'symlink', linkname: 'real' },
      ]);
      const l2 = await layer([{ name: 'configs/alias/.wh.a.json' }]);
      await run([l1, l2]);
      expect(await readdir(path.join(root, 'configs/real'))).toEqual(['b.json']);
      expect(await readlink(path.join(root, 'configs/alias'))).toBe('real');
    });

    it('then a whiteout of the prefix or an opaque root empties it and the prefix still exists', async () => {
      const l1 = await layer([{ name: 'configs/a.json', body: 'a' }]);
      const l2 = await layer([{ name: '.wh.configs' }]);
      await run([l1, l2]);
      expect(await readdir(path.join(root, 'configs'))).toEqual([]);
      await rm(root, { recursive: true });
      const l3 = await layer([{ name: '.wh..wh..opq' }, { name: 'configs/b.json', body: 'b' }]);
      await run([l1, l3]);
      expect(await readdir(path.join(root, 'configs'))).toEqual(['b.json']);
    });

    it('when a directory is replaced by a link or a file, then later entries below it follow the new entry', async () => {
      const l = await layer([
        { name: 'configs/d/a.json', body: 'a' },
        { name: 'configs/sub/', type: 'directory' },
        { name: 'configs/d', type: 'symlink', linkname: 'sub' },
        { name: 'configs/d/b.json', body: 'b' },
      ]);
      await run([l]);
      expect(await readlink(path.join(root, 'configs/d'))).toBe('sub');
      expect(await readdir(path.join(root, 'configs/sub'))).toEqual(['b.json']);
      await rm(root, { recursive: true });
      const toFile = await layer([
        { name: 'configs/d/a.json', body: 'a' },
        { name: 'configs/d', body: 'now a file' },
        { name: 'configs/d/b.json', body: 'b' },
      ]);
      await expectRefused(
        run([toFile]),
        /^image layer entry "configs\/d\/b.json" lies below "configs\/d", which is not a directory$/,
      );
    });

    it('then two prefixes extracted into one root (a bundle) keep each other', async () => {
      const l1 = await layer([
        { name: 'manifests/csv.yaml', body: 'kind: ClusterServiceVersion' },
        { name: 'metadata/annotations.yaml', body: 'annotations: {}' },
        { name: '.wh..wh..opq' },
      ]);
      await run([l1], 'manifests');
      await run([l1], 'metadata');
      expect(await readdir(path.join(root, 'manifests'))).toEqual(['csv.yaml']);
      expect(await readdir(path.join(root, 'metadata'))).toEqual(['annotations.yaml']);
    });
  });
});

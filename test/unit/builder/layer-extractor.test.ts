import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pack } from 'tar-stream';
import { extractLayers, safeEntryPath } from '../../../services/builder/layer-extractor';

async function layer(
  dir: string,
  name: string,
  entries: { name: string; body?: string; type?: 'symlink'; linkname?: string }[],
) {
  const p = pack();
  for (const e of entries) {
    if (e.type === 'symlink') p.entry({ name: e.name, type: 'symlink', linkname: e.linkname });
    else p.entry({ name: e.name }, e.body ?? '');
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  const file = path.join(dir, name);
  await writeFile(file, Buffer.concat(chunks));
  return file;
}

describe('extracting image layers', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'layers-'));
  });

  it('when layers are applied in order, then later files win and whiteouts remove packages', async () => {
    const l1 = await layer(dir, 'l1.tar', [
      { name: 'configs/a/catalog.json', body: 'a1' },
      { name: 'configs/b/catalog.json', body: 'b1' },
      { name: 'bin/opm', body: 'binary' },
    ]);
    const l2 = await layer(dir, 'l2.tar', [
      { name: 'configs/a/catalog.json', body: 'a2' },
      { name: 'configs/.wh.b', body: '' },
    ]);
    const out = path.join(dir, 'out');
    await extractLayers([l1, l2], '/configs', out, { maxBytes: 1e6 });
    expect(await readdir(path.join(out, 'configs'))).toEqual(['a']);
    expect(await readFile(path.join(out, 'configs/a/catalog.json'), 'utf8')).toBe('a2');
    await expect(readdir(path.join(out, 'bin'))).rejects.toThrow();
  });

  it('when an entry has a ../ path, then extraction is refused with a clear error', async () => {
    const bad = await layer(dir, 'bad.tar', [{ name: 'configs/../../etc/passwd', body: 'x' }]);
    await expect(extractLayers([bad], 'configs', path.join(dir, 'o'), { maxBytes: 1e6 })).rejects.toThrow(
      'image layer entry "configs/../../etc/passwd" escapes the image root',
    );
  });

  it('when a link points outside the catalog, then extraction is refused', async () => {
    const bad = await layer(dir, 'link.tar', [
      { name: 'configs/x', type: 'symlink', linkname: '/etc/shadow' },
    ]);
    await expect(extractLayers([bad], 'configs', path.join(dir, 'o'), { maxBytes: 1e6 })).rejects.toThrow(
      /points outside configs/,
    );
  });

  it('when layers exceed the size limit, then extraction stops', async () => {
    const big = await layer(dir, 'big.tar', [{ name: 'configs/a', body: 'x'.repeat(2000) }]);
    await expect(extractLayers([big], 'configs', path.join(dir, 'o'), { maxBytes: 1000 })).rejects.toThrow(
      /exceed the extraction limit/,
    );
  });

  it('when naming entries, then leading slashes and dots are normalised', () => {
    expect(safeEntryPath('./configs//a/./b')).toBe('configs/a/b');
    expect(safeEntryPath('/configs')).toBe('configs');
  });
});

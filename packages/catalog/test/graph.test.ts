import type { ChannelBlob } from '../src/fbc';
import type { RegBundle } from '../src/registry-state';
import { semverPackageManifest, rebuildReplacesChannels } from '../src/replaces-mode';
import { addBundleToGraph, entriesFromGraph, generateGraph } from '../src/semver-mode';
import { validatePackages } from '../src/validate';
import { emptyBlock } from '../src/fbc';

function bundle(
  name: string,
  version: string,
  channels: string[],
  extra: Partial<RegBundle> = {},
): RegBundle {
  return {
    name,
    image: `example/${name}`,
    version,
    channels,
    replaces: '',
    skips: [],
    skipRange: '',
    blob: { schema: 'olm.bundle', name, package: 'p', image: `example/${name}`, properties: [] },
    ...extra,
  };
}

describe('replaces mode', () => {
  it('when bundles chain by replaces, then the highest version heads the channel and older ones follow', () => {
    const bs = [
      bundle('p.v1', '1.0.0', ['stable']),
      bundle('p.v2', '2.0.0', ['stable'], { replaces: 'p.v1', annotationDefault: 'stable' }),
    ];
    const m = semverPackageManifest(bs, '');
    if (!m.ok) throw new Error(m.error);
    expect(m.manifest.heads.get('stable')).toBe('p.v2');
    const { channels, errors } = rebuildReplacesChannels(
      'p',
      m.manifest,
      new Map(bs.map((b) => [b.name, b])),
    );
    expect(errors).toEqual([]);
    const entries = channels.get('stable') ?? [];
    expect(entries.map((e) => e.name).sort()).toEqual(['p.v1', 'p.v2']);
    expect(entries.find((e) => e.name === 'p.v2')?.replaces).toBe('p.v1');
  });

  it('when the head replaces a bundle that is not there, then the error names head and target', () => {
    const bs = [bundle('p.v2', '2.0.0', ['stable'], { replaces: 'p.v1', annotationDefault: 'stable' })];
    const m = semverPackageManifest(bs, '');
    if (!m.ok) throw new Error(m.error);
    const { errors } = rebuildReplacesChannels('p', m.manifest, new Map(bs.map((b) => [b.name, b])));
    expect(errors.join()).toMatch(/p\.v2.*p\.v1/);
  });

  it('when two bundles share the top version, then no head can be chosen', () => {
    const bs = [bundle('p.a', '1.0.0', ['stable']), bundle('p.b', '1.0.0', ['stable'])];
    expect(semverPackageManifest(bs, 'stable').ok).toBe(false);
  });
});

describe('semver mode', () => {
  const channel = (entries: ChannelBlob['entries']): ChannelBlob => ({
    schema: 'olm.channel',
    name: 'c',
    package: 'p',
    entries,
  });

  it('when a version is inserted between two others, then the chain stays ordered by version', () => {
    const bs = new Map([
      ['p.v1', bundle('p.v1', '1.0.0', ['c'])],
      ['p.v3', bundle('p.v3', '3.0.0', ['c'])],
    ]);
    const gen = generateGraph(
      'p',
      true,
      'c',
      [channel([{ name: 'p.v1' }, { name: 'p.v3', replaces: 'p.v1' }])],
      bs,
    );
    if (!gen.ok) throw new Error(gen.error);
    const nb = bundle('p.v2', '2.0.0', ['c']);
    bs.set(nb.name, nb);
    expect(addBundleToGraph(gen.graph, nb, 'p', bs, false)).toBeUndefined();
    const { channels, errors } = entriesFromGraph(gen.graph, bs);
    expect(errors).toEqual([]);
    const byName = new Map((channels.get('c') ?? []).map((e) => [e.name, e]));
    expect(byName.get('p.v3')?.replaces).toBe('p.v2');
    expect(byName.get('p.v2')?.replaces).toBe('p.v1');
  });

  it('when the same version is added again, then it is refused', () => {
    const bs = new Map([['p.v1', bundle('p.v1', '1.0.0', ['c'])]]);
    const gen = generateGraph('p', true, 'c', [channel([{ name: 'p.v1' }])], bs);
    if (!gen.ok) throw new Error(gen.error);
    expect(addBundleToGraph(gen.graph, bundle('p.other', '1.0.0', ['c']), 'p', bs, false)).toMatch(
      /already added/,
    );
  });

  it('when skippatch adds a patch release, then the older patch becomes a skip', () => {
    const bs = new Map([['p.v1', bundle('p.v1', '1.0.0', ['c'])]]);
    const gen = generateGraph('p', true, 'c', [channel([{ name: 'p.v1' }])], bs);
    if (!gen.ok) throw new Error(gen.error);
    const nb = bundle('p.v101', '1.0.1', ['c']);
    bs.set(nb.name, nb);
    addBundleToGraph(gen.graph, nb, 'p', bs, true);
    const { channels } = entriesFromGraph(gen.graph, bs);
    const head = (channels.get('c') ?? []).find((e) => e.name === 'p.v101');
    expect(head?.skips).toContain('p.v1');
    expect(head?.replaces).toBeUndefined();
  });
});

describe('validate', () => {
  it('when a channel has a bundle nothing reaches, then it is reported as stranded', () => {
    const block = emptyBlock('p');
    block.package = { schema: 'olm.package', name: 'p', defaultChannel: 'c' };
    block.channels = [
      { schema: 'olm.channel', name: 'c', package: 'p', entries: [{ name: 'a' }, { name: 'b' }] },
    ];
    const pkgProp = (v: string) => [{ type: 'olm.package', value: { packageName: 'p', version: v } }];
    block.bundles = [
      { schema: 'olm.bundle', name: 'a', package: 'p', image: 'x/a', properties: pkgProp('1.0.0') },
      { schema: 'olm.bundle', name: 'b', package: 'p', image: 'x/b', properties: pkgProp('2.0.0') },
    ];
    expect(validatePackages([block])).toMatch(/multiple channel heads found in graph: a, b/);
    block.channels[0]!.entries = [{ name: 'a' }, { name: 'b', replaces: 'a' }];
    expect(validatePackages([block])).toBeUndefined();
  });
});

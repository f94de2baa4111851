import { fbcOperations } from '../../../../services/builder/pipelines/fbc-operations';
import { writeBundlesCatalog } from '../../../support/fbc-images';
import { addBundleImage, addFooBarIndex, FakeRequest, REGISTRY } from './fakes';

describe('fbc-operations with fakes of the registry, buildah and the reporter', () => {
  const FROM = 'quay.test/ns/index:v4.12';
  let req: FakeRequest;
  let foo1: string;
  let bar1: string;
  beforeEach(async () => {
    req = new FakeRequest(45, 'fbc-operations');
    ({ foo1, bar1 } = await addFooBarIndex(req, FROM));
  });
  afterEach(async () => req.cleanup());

  /** A fragment image whose /configs is a catalog of the given fixture bundles. */
  async function fragment(ref: string, bundles: { op: string; version: string; image: string }[]) {
    const dir = await req.tempDir('iib-fake-fragment-');
    await writeBundlesCatalog(dir, bundles);
    return req.registry.add(ref, { trees: { '/configs': dir } });
  }

  it("when a fragment carries a package of the index, then that package is the fragment's and the others stay", async () => {
    const foo2 = await addBundleImage(req.registry, 'quay.test/ns/foo-bundle:0.2.0', 'foo', '0.2.0');
    const frag = await fragment('quay.test/ns/fragment:1', [
      { op: 'foo', version: '0.1.0', image: foo1 },
      { op: 'foo', version: '0.2.0', image: foo2 },
    ]);
    await req.run(fbcOperations, {
      from_index: FROM,
      binary_image: 'scratch',
      fbc_fragment: 'quay.test/ns/fragment:1',
    });

    const configs = req.builder.builds[0]!.configs;
    const text = (pkg: string) =>
      [...configs]
        .filter(([k]) => k.startsWith(`${pkg}/`))
        .map(([, v]) => v)
        .join('\n');
    expect(text('foo')).toContain(foo2);
    expect(text('bar')).toContain(bar1);
    expect(req.reporter.final).toMatchObject({
      state: 'complete',
      reason: 'The 1 FBC fragment(s) were successfully added in the index image',
      fields: {
        fbc_fragment_resolved: frag,
        fbc_fragments_resolved: [frag],
        index_image: `${REGISTRY}/iib-build:45`,
      },
    });
  });

  it('when two fragments carry the same package, then the request is refused', async () => {
    await fragment('quay.test/ns/fragment:a', [{ op: 'foo', version: '0.1.0', image: foo1 }]);
    await fragment('quay.test/ns/fragment:b', [{ op: 'foo', version: '0.1.0', image: foo1 }]);
    await expect(
      req.run(fbcOperations, {
        from_index: FROM,
        binary_image: 'scratch',
        fbc_fragments: ['quay.test/ns/fragment:a', 'quay.test/ns/fragment:b'],
      }),
    ).rejects.toThrow(/both contain the package foo/);
    expect(req.builder.builds).toHaveLength(0);
  });

  it('when no fragment is given, then the request fails', async () => {
    await expect(req.run(fbcOperations, { from_index: FROM, binary_image: 'scratch' })).rejects.toThrow(
      'Either "fbc_fragment" or "fbc_fragments" must be provided',
    );
  });
});

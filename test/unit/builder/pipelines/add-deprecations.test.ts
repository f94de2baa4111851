import { addDeprecations } from '../../../../services/builder/pipelines/add-deprecations';
import { addBundleImage, addIndexImage, FakeRequest } from './fakes';

describe('add-deprecations with fakes of the registry, buildah and the reporter', () => {
  const FROM = 'quay.test/ns/index:v4.12';
  const schema = (pkg: string) =>
    JSON.stringify({
      schema: 'olm.deprecations',
      package: pkg,
      entries: [{ reference: { schema: 'olm.package' }, message: `${pkg} is deprecated` }],
    });
  let req: FakeRequest;
  beforeEach(async () => {
    req = new FakeRequest(46, 'add-deprecations');
    const foo1 = await addBundleImage(req.registry, 'quay.test/ns/foo-bundle:0.1.0', 'foo', '0.1.0');
    await addIndexImage(req, FROM, [{ op: 'foo', version: '0.1.0', image: foo1 }]);
  });
  afterEach(async () => req.cleanup());

  it('when the package is in the index, then its deprecations file is written and only that entry counts as changed', async () => {
    await req.run(addDeprecations, {
      from_index: FROM,
      binary_image: 'scratch',
      operator_package: 'foo',
      deprecation_schema: schema('foo'),
    });

    const configs = req.builder.builds[0]!.configs;
    const written = configs.get('_operator-deprecations-content/foo/foo.json');
    expect(JSON.parse(written ?? '{}')).toMatchObject({ schema: 'olm.deprecations', package: 'foo' });
    expect([...configs.keys()].some((k) => k.startsWith('foo/'))).toBe(true);
    expect(req.reporter.final).toMatchObject({
      state: 'complete',
      reason: 'The deprecation schema was successfully added to the index image',
    });
  });

  it('when the package is not in the index, then the request fails as IIB words it', async () => {
    await expect(
      req.run(addDeprecations, {
        from_index: FROM,
        binary_image: 'scratch',
        operator_package: 'bar',
        deprecation_schema: schema('bar'),
      }),
    ).rejects.toThrow('Cannot add deprecations for bar, It is either not present in index or opted in fbc');
    expect(req.builder.builds).toHaveLength(0);
  });

  it('when the package name would leave the deprecations directory, then it is refused before any image is read', async () => {
    await expect(
      req.run(addDeprecations, {
        from_index: FROM,
        operator_package: '../foo',
        deprecation_schema: schema('../foo'),
      }),
    ).rejects.toThrow('is not a valid package name');
    expect(req.reporter.updates).toEqual([]);
  });
});

import { addPipeline } from '../../../../services/builder/pipelines/add';
import { addBundleImage, addFooBarIndex, FakeRequest, REGISTRY } from './fakes';

describe('add with fakes of the registry, buildah and the reporter', () => {
  const FROM = 'quay.test/ns/index:v4.12';
  const FOO2 = 'quay.test/ns/foo-bundle:0.2.0';
  let req: FakeRequest;
  let foo1: string;
  let bar1: string;
  beforeEach(async () => {
    req = new FakeRequest(43, 'add');
    ({ foo1, bar1 } = await addFooBarIndex(req, FROM));
  });
  afterEach(async () => req.cleanup());

  const catalogText = (configs: Map<string, string>, pkg: string): string =>
    [...configs]
      .filter(([k]) => k.startsWith(`${pkg}/`))
      .map(([, v]) => v)
      .join('\n');

  it('when a bundle is added, then its package is rewritten with it, the other package stays as it was, and the mapping is reported', async () => {
    const foo2 = await addBundleImage(req.registry, FOO2, 'foo', '0.2.0');
    await req.run(addPipeline, { from_index: FROM, binary_image: 'scratch', bundles: [FOO2] });

    const [build] = req.builder.builds;
    expect(catalogText(build!.configs, 'foo')).toContain(foo2);
    expect(catalogText(build!.configs, 'foo')).toContain(foo1);
    expect(catalogText(build!.configs, 'bar')).toContain(bar1);
    expect(req.reporter.final).toMatchObject({
      state: 'complete',
      reason: 'The operator bundle(s) were successfully added to the index image',
      fields: { bundle_mapping: { foo: [FOO2] }, index_image: `${REGISTRY}/iib-build:43` },
    });
  });

  it('when the bundle is already in the index, then it is reported present and not added again', async () => {
    await req.run(addPipeline, { from_index: FROM, binary_image: 'scratch', bundles: [foo1] });

    expect(req.reporter.lines).toContain(`Following bundles are already present in the index image: ${foo1}`);
    expect(req.reporter.lines.some((l) => l.startsWith('Adding bundles'))).toBe(false);
    expect(req.reporter.final.state).toBe('complete');
  });

  it("when there is no from index, then the index holds that bundle's package only, for amd64, and from_index_resolved is null", async () => {
    await req.run(addPipeline, { binary_image: 'scratch', bundles: ['quay.test/ns/foo-bundle:0.1.0'] });

    const [build] = req.builder.builds;
    expect(build?.arch).toBe('amd64');
    expect([...build!.configs.keys()].every((k) => k.startsWith('foo/'))).toBe(true);
    expect(catalogText(build!.configs, 'foo')).toContain(foo1);
    expect(req.reporter.final.fields).toMatchObject({ from_index_resolved: null });
  });

  it('when the deprecation list names a bundle of the index, then it is deprecated', async () => {
    const foo2 = await addBundleImage(req.registry, FOO2, 'foo', '0.2.0');
    await req.run(addPipeline, {
      from_index: FROM,
      binary_image: 'scratch',
      bundles: [FOO2],
      deprecation_list: ['quay.test/ns/foo-bundle:0.1.0'],
    });

    expect(req.reporter.lines).toContain(`Bundles that will be deprecated from the index image: ${foo1}`);
    expect(catalogText(req.builder.builds[0]!.configs, 'foo')).toContain(foo2);
  });

  it('when the graph update mode is unknown, then the request fails before any image is read', async () => {
    await expect(
      req.run(addPipeline, { from_index: FROM, bundles: [FOO2], graph_update_mode: 'sideways' }),
    ).rejects.toThrow('The graph_update_mode sideways is not supported');
    expect(req.reporter.updates).toEqual([]);
  });

  it('when a required label is missing on a bundle, then the request fails naming the bundle and the label', async () => {
    const foo2 = await addBundleImage(req.registry, FOO2, 'foo', '0.2.0');
    await expect(
      req.run(
        addPipeline,
        { from_index: FROM, binary_image: 'scratch', bundles: [FOO2] },
        {},
        {
          requiredLabels: { 'com.redhat.delivery.operator.bundle': 'true' },
        },
      ),
    ).rejects.toThrow(`The bundle ${foo2} does not have the label com.redhat.delivery.operator.bundle=true`);
  });
});

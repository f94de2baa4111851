import { regenerateBundle } from '../../../../services/builder/pipelines/regenerate-bundle';
import { addBundleImage, FakeRequest, REGISTRY } from './fakes';

describe('regenerate-bundle with fakes of the registry, buildah and the reporter', () => {
  const BUNDLE = 'quay.test/ns/foo-bundle:0.1.0';
  const OPERATOR = 'test.registry/foo-operator/foo:v0.1.0';
  let req: FakeRequest;
  let operator: string;
  beforeEach(async () => {
    req = new FakeRequest(47, 'regenerate-bundle');
    await addBundleImage(req.registry, BUNDLE, 'foo', '0.1.0');
    operator = req.registry.add(OPERATOR);
  });
  afterEach(async () => req.cleanup());

  it("when the default customizations run, then the CSV's pull specs are pinned to digests and the image is labelled pinned", async () => {
    await req.run(regenerateBundle, { from_bundle_image: BUNDLE });

    const [build] = req.builder.builds;
    const csv = build!.context.get('manifests/foo.v0.1.0.csv.yaml') ?? '';
    expect(csv).toContain(operator);
    expect(csv).not.toContain(OPERATOR);
    expect(build!.dockerfile).toContain('LABEL "com.redhat.iib.pinned"="true"');
    expect(req.reporter.artifactSets).toEqual([{ related_bundles: [] }]);
    expect(req.reporter.final).toMatchObject({
      state: 'complete',
      reason: 'The request completed successfully',
      fields: { arches: ['amd64'], bundle_image: `${REGISTRY}/iib-build:47` },
    });
  });

  it('when a pull spec cannot be resolved, then the request fails naming it', async () => {
    req.registry.images.delete(OPERATOR);
    await expect(req.run(regenerateBundle, { from_bundle_image: BUNDLE })).rejects.toThrow(
      `Failed to inspect docker://${OPERATOR}`,
    );
    expect(req.builder.builds).toHaveLength(0);
  });
});

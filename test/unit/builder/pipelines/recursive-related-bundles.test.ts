import {
  MAX_RELATED_BUNDLES_EXCEEDED,
  recursiveRelatedBundles,
} from '../../../../services/builder/pipelines/recursive-related-bundles';
import { fixtureBundleDir } from '../../../support/fbc-images';
import { addBundleImage, FakeRequest } from './fakes';

describe('recursive-related-bundles with fakes of the registry, buildah and the reporter', () => {
  const PARENT = 'quay.test/ns/foo-bundle:0.1.0';
  /** foo 0.1.0's related image, made a bundle here: bar 0.1.0's files. */
  const CHILD = 'test.registry/foo-operator/foo:v0.1.0';
  /** bar 0.1.0's related image: no bundle. */
  const LEAF = 'test.registry/bar-operator/bar:v0.1.0';
  let req: FakeRequest;
  let parent: string;
  beforeEach(async () => {
    req = new FakeRequest(48, 'recursive-related-bundles');
    parent = await addBundleImage(req.registry, PARENT, 'foo', '0.1.0');
    const bar = fixtureBundleDir('bar', '0.1.0');
    req.registry.add(CHILD, {
      labels: { 'com.redhat.delivery.operator.bundle': 'true' },
      trees: { '/manifests': `${bar}/manifests`, '/metadata': `${bar}/metadata` },
    });
    req.registry.add(LEAF);
  });
  afterEach(async () => req.cleanup());

  it('when a related image is a bundle, then it is walked too and the list comes deepest first', async () => {
    await req.run(recursiveRelatedBundles, { parent_bundle_image: PARENT });

    expect(req.reporter.artifactSets).toEqual([{ nested_bundles: [CHILD, parent] }]);
    expect(req.reporter.lines).toEqual([
      `Related bundles of ${parent}: ${CHILD}`,
      `Related bundles of ${CHILD}: (none)`,
    ]);
    expect(req.reporter.final).toMatchObject({
      state: 'complete',
      reason: 'The request completed successfully',
    });
    expect(req.builder.builds).toHaveLength(0);
  });

  it('when the walk reaches IIB_MAX_RECURSIVE_RELATED_BUNDLES, then the request fails', async () => {
    await expect(
      req.run(
        recursiveRelatedBundles,
        { parent_bundle_image: PARENT },
        {},
        { maxRecursiveRelatedBundles: 1 },
      ),
    ).rejects.toThrow(MAX_RELATED_BUNDLES_EXCEEDED);
    expect(req.reporter.artifactSets).toEqual([]);
  });
});

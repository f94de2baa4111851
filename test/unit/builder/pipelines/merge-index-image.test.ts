import { mergeIndexImage } from '../../../../services/builder/pipelines/merge-index-image';
import { addBundleImage, addIndexImage, FakeRequest, INDEX_LABELS, REGISTRY } from './fakes';

describe('merge-index-image with fakes of the registry, buildah and the reporter', () => {
  const SOURCE = 'quay.test/ns/source-index:v4.12';
  const TARGET = 'quay.test/ns/target-index:v4.12';
  const OCP = 'com.redhat.openshift.versions';
  let req: FakeRequest;
  let foo1: string;
  let bar1: string;
  let target: string;
  beforeEach(async () => {
    req = new FakeRequest(44, 'merge-index-image');
    foo1 = await addBundleImage(req.registry, 'quay.test/ns/foo-bundle:0.1.0', 'foo', '0.1.0', {
      [OCP]: 'v4.10',
    });
    bar1 = await addBundleImage(req.registry, 'quay.test/ns/bar-bundle:0.1.0', 'bar', '0.1.0', {
      [OCP]: 'v4.10',
    });
    await addIndexImage(req, SOURCE, [{ op: 'foo', version: '0.1.0', image: foo1 }], INDEX_LABELS('v4.12'));
    target = await addIndexImage(
      req,
      TARGET,
      [
        { op: 'foo', version: '0.1.0', image: foo1 },
        { op: 'bar', version: '0.1.0', image: bar1 },
      ],
      INDEX_LABELS('v4.12', 'stage'),
    );
  });
  afterEach(async () => req.cleanup());

  const packagesOf = (configs: Map<string, string>): string[] =>
    [...new Set([...configs.keys()].map((k) => k.split('/')[0] as string))].sort();

  it("when the target holds a bundle the source lacks, then it is added to the source's catalog and the target's scope applies", async () => {
    await req.run(mergeIndexImage, {
      source_from_index: SOURCE,
      target_index: TARGET,
      binary_image: 'scratch',
    });

    const [build] = req.builder.builds;
    expect(packagesOf(build!.configs)).toEqual(['bar', 'foo']);
    expect(req.reporter.lines).toContain(`Bundles missing in the source index image: ${bar1}`);
    expect(req.reporter.final).toMatchObject({
      state: 'complete',
      reason: 'The index image was successfully cleaned and updated.',
      fields: {
        distribution_scope: 'stage',
        target_index_resolved: target,
        index_image: `${REGISTRY}/iib-build:44`,
      },
    });
  });

  it("when a bundle's OCP versions exclude the target's, then it is deprecated", async () => {
    const baz = await addBundleImage(req.registry, 'quay.test/ns/baz-bundle:1.0.0', 'baz', '1.0.0', {
      [OCP]: '=v4.11',
    });
    await addIndexImage(req, TARGET, [{ op: 'baz', version: '1.0.0', image: baz }], INDEX_LABELS('v4.12'));

    await req.run(mergeIndexImage, {
      source_from_index: SOURCE,
      target_index: TARGET,
      binary_image: 'scratch',
    });

    expect(req.reporter.lines).toContain(`Bundles whose ${OCP} excludes v4.12, to deprecate: ${baz}`);
    expect(req.reporter.lines).toContain(`Deprecating bundles: ${baz}`);
    // Its only bundle deprecated, the package goes (--allow-package-removal).
    expect(packagesOf(req.builder.builds[0]!.configs)).toEqual(['foo']);
    expect(req.reporter.final.state).toBe('complete');
  });

  it('when the target is a SQLite index, then the merge is refused', async () => {
    req.registry.add(TARGET, { labels: { 'com.redhat.index.delivery.version': 'v4.12' } });
    await expect(
      req.run(mergeIndexImage, { source_from_index: SOURCE, target_index: TARGET, binary_image: 'scratch' }),
    ).rejects.toThrow('Cannot merge source File-Based Catalog index image into target SQLite index image.');
    expect(req.builder.builds).toHaveLength(0);
  });

  it('when overwrite_target_index is asked without a target, then the request fails', async () => {
    await expect(
      req.run(mergeIndexImage, { source_from_index: SOURCE, overwrite_target_index: true }),
    ).rejects.toThrow('The "target_index" value is required to use "overwrite_target_index"');
  });

  it('when overwrite_target_index is set with a token, then the target is overwritten through an auth file of the request', async () => {
    const ctx = await req.run(
      mergeIndexImage,
      {
        source_from_index: SOURCE,
        target_index: TARGET,
        binary_image: 'scratch',
        overwrite_target_index: true,
      },
      { overwrite_target_index_token: 'user:secret' },
    );
    expect(req.registry.copies).toEqual([
      { src: `${REGISTRY}/iib-build:44`, dest: TARGET, authFile: expect.stringContaining(ctx.workDir) },
    ]);
    expect(req.reporter.final.fields).toMatchObject({ index_image: TARGET });
  });
});

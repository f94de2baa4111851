import { FROM_INDEX_CHANGED } from '../../../../services/builder/index-image';
import { rmPipeline } from '../../../../services/builder/pipelines/rm';
import { addFooBarIndex, FakeRequest, INDEX_LABELS, REGISTRY } from './fakes';

describe('rm with fakes of the registry, buildah and the reporter', () => {
  const FROM = 'quay.test/ns/index:v4.12';
  let req: FakeRequest;
  beforeEach(async () => {
    req = new FakeRequest(42, 'rm');
    await addFooBarIndex(req, FROM, ['amd64', 'arm64']);
  });
  afterEach(async () => req.cleanup());

  it('when a package is removed, then every arch is built with the other packages only and the build tags are pushed too', async () => {
    await req.run(rmPipeline, {
      from_index: FROM,
      binary_image: 'scratch',
      operators: ['foo'],
      build_tags: ['extra'],
    });

    expect(req.builder.builds.map((b) => b.arch).sort()).toEqual(['amd64', 'arm64']);
    for (const build of req.builder.builds) {
      const tops = [...build.configs.keys()].map((k) => k.split('/')[0]);
      expect(new Set(tops)).toEqual(new Set(['bar']));
    }
    expect(req.builder.lists[0]?.dests).toEqual([`${REGISTRY}/iib-build:42`, `${REGISTRY}/iib-build:extra`]);
    expect(req.reporter.lines).toContain('Removing the operators from the index image: foo');
    expect(req.reporter.final).toMatchObject({
      state: 'complete',
      reason: 'The operator(s) were successfully removed from the index image',
    });
    expect(req.registry.copies).toEqual([]);
  });

  it('when the package is not in the index, then the request fails and nothing is built', async () => {
    await expect(
      req.run(rmPipeline, { from_index: FROM, binary_image: 'scratch', operators: ['nope'] }),
    ).rejects.toThrow(/nope/);
    expect(req.builder.builds).toHaveLength(0);
  });

  it('when overwrite_from_index is set with a token, then the result is copied onto the from index with an auth file of the request', async () => {
    const ctx = await req.run(
      rmPipeline,
      { from_index: FROM, binary_image: 'scratch', operators: ['foo'], overwrite_from_index: true },
      { overwrite_from_index_token: 'user:secret' },
    );

    expect(req.registry.copies).toHaveLength(1);
    const [copy] = req.registry.copies;
    expect(copy).toMatchObject({ src: `${REGISTRY}/iib-build:42`, dest: FROM });
    expect(copy?.authFile?.startsWith(ctx.workDir)).toBe(true);
    expect(req.reporter.final.fields).toMatchObject({
      index_image: FROM,
      internal_index_image_copy: `${REGISTRY}/iib-build:42`,
    });
  });

  it('when the from index moves during the request, then it is not overwritten', async () => {
    req.builder.afterList = () => {
      req.registry.add(FROM, { labels: INDEX_LABELS('v4.12') });
    };
    await expect(
      req.run(rmPipeline, {
        from_index: FROM,
        binary_image: 'scratch',
        operators: ['foo'],
        overwrite_from_index: true,
      }),
    ).rejects.toThrow(FROM_INDEX_CHANGED);
    expect(req.registry.copies).toEqual([]);
  });
});

import { createEmptyIndex } from '../../../../services/builder/pipelines/create-empty-index';
import { addFooBarIndex, FakeRequest, REGISTRY } from './fakes';

describe('create-empty-index with fakes of the registry, buildah and the reporter', () => {
  let req: FakeRequest;
  beforeEach(() => {
    req = new FakeRequest(41, 'create-empty-index');
  });
  afterEach(async () => req.cleanup());

  async function fromIndex(): Promise<string> {
    await addFooBarIndex(req, 'quay.test/ns/index:v4.12');
    return 'quay.test/ns/index:v4.12';
  }

  it('when the from index holds packages, then the image is built with an empty /configs, the labels asked for, and pushed as iib-build:<id>', async () => {
    const ref = await fromIndex();
    await req.run(createEmptyIndex, { from_index: ref, binary_image: 'scratch', labels: { team: 'a' } });

    expect(req.builder.builds).toHaveLength(1);
    const [build] = req.builder.builds;
    expect(build?.arch).toBe('amd64');
    expect(build?.configs.size).toBe(0);
    expect(build?.dockerfile).toContain('FROM scratch');
    expect(build?.dockerfile).toContain('LABEL "team"="a"');
    expect(build?.dockerfile).toContain('LABEL "com.redhat.index.delivery.version"="v4.12"');
    expect(req.builder.lists).toEqual([
      { images: [`${REGISTRY}/iib-build:41-amd64`], dests: [`${REGISTRY}/iib-build:41`] },
    ]);
    expect(req.reporter.lines).toContain('Removing all the operators from the index image: bar, foo');
    expect(req.reporter.final.state).toBe('complete');
    expect(req.reporter.final.reason).toBe('The empty index image was successfully created');
    expect(req.reporter.final.fields).toMatchObject({
      index_image: `${REGISTRY}/iib-build:41`,
      arches: ['amd64'],
      distribution_scope: 'prod',
      binary_image: 'scratch',
    });
  });

  it('when the from index is no file-based catalog, then the request fails before anything is built', async () => {
    req.registry.add('quay.test/ns/sqlite-index:v4.6', {
      labels: { 'com.redhat.index.delivery.version': 'v4.6' },
    });
    await expect(
      req.run(createEmptyIndex, { from_index: 'quay.test/ns/sqlite-index:v4.6', binary_image: 'scratch' }),
    ).rejects.toThrow(/is not a file-based catalog/);
    expect(req.builder.builds).toHaveLength(0);
  });

  it('when no binary image is given and none is configured, then the request fails naming scope and OCP version', async () => {
    const ref = await fromIndex();
    await expect(req.run(createEmptyIndex, { from_index: ref })).rejects.toThrow(
      'no binary image is configured for distribution scope prod and OCP version v4.12',
    );
  });
});

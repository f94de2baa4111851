import { rm } from 'node:fs/promises';
import { testImages } from '../support/env';
import { readTree, requireRegistry, under } from '../support/fbc-images';
import {
  extractFromImage,
  imageArches,
  imageConfig,
  submit,
  validateCatalogDir,
} from '../support/index-images';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';

jest.setTimeout(180_000);

const deprecations = (pkg: string, bundle: string): Record<string, unknown> => ({
  schema: 'olm.deprecations',
  package: pkg,
  entries: [
    { reference: { schema: 'olm.package' }, message: `${pkg} is end of life: use something else` },
    { reference: { schema: 'olm.bundle', name: bundle }, message: 'this version has a CVE — upgrade' },
  ],
});

describe('add-deprecations through the four services', () => {
  let system: RunningSystem;
  let fromIndexTree: Map<string, Buffer>;
  const cleanups: string[] = [];

  beforeAll(async () => {
    await requireRegistry();
    system = await startSystem();
    const from = await extractFromImage(testImages.index, 'amd64');
    cleanups.push(from.root);
    fromIndexTree = await readTree(from.dir);
  });

  afterAll(async () => {
    await system?.stop();
    for (const d of cleanups) await rm(d, { recursive: true, force: true });
  });

  it('when the package is in the index, then its deprecations file is written as IIB writes it and nothing else changes', async () => {
    const schema = deprecations('kube-green', 'kube-green.v0.3.0');
    const { status, json } = await submit(system.api, 'add-deprecations', {
      from_index: testImages.index,
      binary_image: testImages.binary,
      operator_package: 'kube-green',
      deprecation_schema: JSON.stringify(schema),
    });
    expect(status).toBe(201);
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state_reason).toBe('The deprecation schema was successfully added to the index image');
    expect(done.state).toBe('complete');
    expect(done.operator_package).toBe('kube-green');
    expect(done.arches).toEqual(['amd64', 'arm64']);
    const reasons = (done.state_history as { state_reason: string }[]).map((h) => h.state_reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'Resolving the index images',
        'Getting all deprecations present in index image',
        'Adding deprecations to from_index',
        'Creating the manifest list',
      ]),
    );
    const image = done.index_image_resolved as string;
    expect(await imageArches(image)).toEqual(['amd64', 'arm64']);
    expect((await imageConfig(image, 'arm64')).labels).toMatchObject({
      'operators.operatorframework.io.index.configs.v1': '/configs',
      'com.redhat.index.delivery.version': 'v4.18',
      'com.redhat.index.delivery.distribution_scope': 'prod',
    });
    const out = await extractFromImage(image, 'arm64');
    cleanups.push(out.root);
    const tree = await readTree(out.dir);
    const file = tree.get('_operator-deprecations-content/kube-green/kube-green.json');
    // Python's json.dump: ", " and ": " separators, non-ASCII escaped.
    expect(file?.toString()).toBe(
      '{"schema": "olm.deprecations", "package": "kube-green", "entries": [' +
        '{"reference": {"schema": "olm.package"}, "message": "kube-green is end of life: use something else"}, ' +
        '{"reference": {"schema": "olm.bundle", "name": "kube-green.v0.3.0"}, "message": "this version has a CVE \\u2014 upgrade"}]}',
    );
    expect(JSON.parse(file!.toString())).toEqual(schema);
    expect([...tree.keys()].filter((k) => k.startsWith('_operator-deprecations-content/'))).toHaveLength(1);
    for (const pkg of testImages.indexPackages) expect(under(tree, pkg)).toEqual(under(fromIndexTree, pkg));
    expect(await validateCatalogDir(out.dir)).toMatchObject({ code: 0 });
  });

  it("when the package is not in the index, then the request fails with IIB's message", async () => {
    const { json } = await submit(system.api, 'add-deprecations', {
      from_index: testImages.index,
      binary_image: testImages.binary,
      operator_package: 'not-in-this-index',
      deprecation_schema: JSON.stringify(deprecations('not-in-this-index', 'x.v1.0.0')),
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state).toBe('failed');
    expect(done.state_reason).toBe(
      'Cannot add deprecations for not-in-this-index, It is either not present in index or opted in fbc',
    );
  });

  it("when the schema names a bundle the package lacks, then the request fails with opm validate's message", async () => {
    const { json } = await submit(system.api, 'add-deprecations', {
      from_index: testImages.index,
      binary_image: testImages.binary,
      operator_package: 'kube-green',
      deprecation_schema: JSON.stringify(deprecations('kube-green', 'kube-green.v9.9.9')),
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state).toBe('failed');
    expect(done.state_reason).toBe(
      'Failed to validate the content from config_dir /configs: cannot deprecate bundle "kube-green.v9.9.9" for package "kube-green": bundle not found',
    );
  });

  it('when the schema is for another package, then the request fails saying so', async () => {
    const { json } = await submit(system.api, 'add-deprecations', {
      from_index: testImages.index,
      binary_image: testImages.binary,
      operator_package: 'kube-green',
      deprecation_schema: JSON.stringify(deprecations('kubevirt-wol', 'kubevirt-wol.v0.0.2')),
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state).toBe('failed');
    expect(done.state_reason).toBe(
      'The deprecation schema is for package "kubevirt-wol", not for operator_package "kube-green"',
    );
  });
});

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import {
  addReplacement,
  guessPullSpecs,
  imageNameToString,
  loadOperatorCsv,
  parseImageName,
  Replacements,
} from '../../../services/builder/bundles/bundle-csv';
import { formatTemplate } from '../../../services/builder/bundles/bundle-customizations';

const D = `sha256:${'a'.repeat(64)}`;

const CSV = `# kept comment
apiVersion: operators.coreos.com/v1alpha1
kind: ClusterServiceVersion
metadata:
  name: op.v1.0.0
  annotations:
    containerImage: quay.io/ns/op:v1
    description: "uses quay.io/ns/side:v2 and quay.io/ns/op:v1, see https://example.com/x:y"
spec:
  install:
    spec:
      deployments:
        - name: op
          spec:
            template:
              metadata:
                annotations:
                  note: quay.io/ns/op:v1
              spec:
                containers:
                  - name: manager
                    image: quay.io/ns/op:v1
                    args: ["--image=quay.io/ns/op:v1", "quay.io/ns/op:v1"]
                    env:
                      - name: RELATED_IMAGE_SIDE
                        value: quay.io/ns/side:v2
`;

describe('bundle CSV pull specs (operator-manifest semantics)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bundle-csv-'));
    await mkdir(path.join(dir, 'manifests'));
    await writeFile(path.join(dir, 'manifests', 'op.clusterserviceversion.yaml'), CSV);
    await writeFile(path.join(dir, 'manifests', 'crd.yaml'), 'kind: CustomResourceDefinition\n');
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('when pull specs are parsed, then they read as ImageName does', () => {
    expect(parseImageName('localhost:5000/a/b:v1')).toEqual({
      registry: 'localhost:5000',
      namespace: 'a',
      repo: 'b',
      tag: 'v1',
    });
    expect(parseImageName(`r.io/a/b/c@${D}`)).toEqual({
      registry: 'r.io',
      namespace: 'a',
      repo: 'b/c',
      tag: D,
    });
    expect(imageNameToString(parseImageName('quay.io/a'))).toBe('quay.io/a:latest');
    expect(imageNameToString(parseImageName(`quay.io/a@${D}`))).toBe(`quay.io/a@${D}`);
  });

  it('when text is scanned, then only pull specs with a dotted registry and a tag are found', () => {
    const text = 'see quay.io/ns/op:v1, localhost:5000/x:v1 and https://example.com/x:y.';
    // A URL is no pull spec (the candidate starts at "https:"); localhost has no dot.
    expect(guessPullSpecs(text).map(([i, j]) => text.slice(i, j))).toEqual(['quay.io/ns/op:v1']);
  });

  it('when the CSV is read, then pull specs come from the known places and annotation text', async () => {
    const csv = await loadOperatorCsv(path.join(dir, 'manifests'));
    expect(csv.pullSpecs().map(imageNameToString).sort()).toEqual(
      ['quay.io/ns/op:v1', 'quay.io/ns/side:v2'].sort(),
    );
    expect(csv.hasRelatedImages()).toBe(false);
  });

  it('when a replacement is applied, then every string value changes except inside metadata.annotations, where known and guessed pull specs change', async () => {
    const csv = await loadOperatorCsv(path.join(dir, 'manifests'));
    const map: Replacements = new Map();
    addReplacement(map, parseImageName('quay.io/ns/op:v1'), parseImageName(`quay.io/ns/op@${D}`));
    csv.replaceEverywhere(map);
    csv.setRelatedImages();
    await csv.save();
    const text = await readFile(csv.file, 'utf8');
    expect(text.startsWith('# kept comment\n')).toBe(true);
    const data = parse(text) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const pinned = `quay.io/ns/op@${D}`;
    expect(data.metadata.annotations.containerImage).toBe(pinned);
    expect(data.metadata.annotations.description).toBe(
      `uses quay.io/ns/side:v2 and ${pinned}, see https://example.com/x:y`,
    );
    const tpl = data.spec.install.spec.deployments[0].spec.template;
    expect(tpl.metadata.annotations.note).toBe(pinned); // guessed: a whole-value pull spec in another annotation
    expect(tpl.spec.containers[0].image).toBe(pinned);
    // Not a whole pull spec: left alone, as IIB does.
    expect(tpl.spec.containers[0].args).toEqual(['--image=quay.io/ns/op:v1', pinned]);
    expect((data.spec.relatedImages as { name: string }[]).map((r) => r.name)).toEqual([
      `op-${'a'.repeat(64)}-annotation`,
      'manager',
      'side',
      'side-v2-annotation',
    ]);
  });

  it('when two CSVs are present, then the bundle is refused with the files named', async () => {
    await writeFile(path.join(dir, 'manifests', 'other.yaml'), CSV);
    await expect(loadOperatorCsv(path.join(dir, 'manifests'))).rejects.toThrow(
      /Operator bundle may contain only 1 CSV file, but contains more: op.clusterserviceversion.yaml, other.yaml|other.yaml, op.clusterserviceversion.yaml/,
    );
  });

  it('when a template names labels, then they fill in and a missing one is reported', () => {
    expect(formatTemplate('{ns}/{{x}}-{name}', { ns: 'a', name: 'b' })).toBe('a/{x}-b');
    expect(() => formatTemplate('{nope}', {})).toThrow();
  });
});

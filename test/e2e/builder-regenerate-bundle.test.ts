import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { parse } from 'yaml';
import { pushBundle, pushImage, requireRegistry } from '../support/bundle-images';
import { registryHost } from '../support/env';
import { extractFromImage, imageArches, imageConfig, submit } from '../support/index-images';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';
import { subscribe, TopicSubscriber } from '../support/topic-subscriber';

jest.setTimeout(180_000);

const run = `regen-${randomBytes(4).toString('hex')}`;
/** Pull specs inside the CSVs use 127.0.0.1:5000 (a registry with a dot, so annotation text is scanned too). */
const inCsv = `127.0.0.1:${registryHost.split(':')[1] ?? '5000'}/${run}`;
const pushTo = `${registryHost}/${run}`;
const PINNED_SPEC = /@sha256:[0-9a-f]{64}$/;

interface Csv {
  metadata: { annotations: Record<string, string> };
  spec: {
    relatedImages?: { name: string; image: string }[];
    install: {
      spec: {
        deployments: {
          spec: {
            template: { spec: { containers: { image: string; env?: { name: string; value: string }[] }[] } };
          };
        }[];
      };
    };
  };
}

async function readBundle(
  ref: string,
  arch: string,
): Promise<{ csv: Csv; csvText: string; annotations: Record<string, string> }> {
  const m = await extractFromImage(ref, arch, 'manifests');
  const md = await extractFromImage(ref, arch, 'metadata');
  try {
    const files = await readdir(m.dir);
    const csvFile = files.find((f) => f.endsWith('.clusterserviceversion.yaml'));
    if (!csvFile) throw new Error(`no CSV in /manifests of ${ref}: ${files.join(', ')}`);
    const csvText = await readFile(path.join(m.dir, csvFile), 'utf8');
    const ann = parse(await readFile(path.join(md.dir, 'annotations.yaml'), 'utf8')) as {
      annotations: Record<string, string>;
    };
    return { csv: parse(csvText) as Csv, csvText, annotations: ann.annotations };
  } finally {
    await rm(m.root, { recursive: true, force: true });
    await rm(md.root, { recursive: true, force: true });
  }
}

describe('regenerate-bundle through the four services, with bundles built in the test', () => {
  let system: RunningSystem;
  let batchTopic: TopicSubscriber;
  const digest: Record<string, string> = {};
  const secretAuth = Buffer.from(`robot:${randomBytes(12).toString('hex')}`).toString('base64');

  beforeAll(async () => {
    await requireRegistry();
    system = await startSystem({
      env: {
        IIB_ORGANIZATION_CUSTOMIZATIONS: JSON.stringify({
          acme: [
            { type: 'resolve_image_pullspecs' },
            { type: 'related_bundles' },
            { type: 'package_name_suffix', suffix: '-acme' },
            {
              type: 'csv_annotations',
              annotations: { 'acme.example/pricing': 'https://acme.example/{package_name}' },
            },
            {
              type: 'registry_replacements',
              replacements: { [inCsv.split('/')[0]!]: 'registry.acme.example' },
            },
          ],
        }),
      },
    });
    batchTopic = await subscribe(system.batchStateTopic);
    digest.operandA = await pushImage(`${pushTo}/operand-a:v1`, { files: { 'a.txt': `a ${run}\n` } });
    digest.operandB = await pushImage(`${pushTo}/operand-b:v1`, { files: { 'b.txt': `b ${run}\n` } });
    digest.operandC = await pushImage(`${pushTo}/operand-c:v1`, { files: { 'c.txt': `c ${run}\n` } });
    digest.child = await pushBundle(`${pushTo}/child-bundle:v1`, 'child-operator', {
      name: 'child-operator.v1.0.0',
      containers: [{ name: 'manager', image: `${inCsv}/operand-b:v1` }],
    });
    digest.rebuilt = await pushBundle(`${pushTo}/child-bundle-rebuilt:v1`, 'child-operator', {
      name: 'child-operator.v1.0.1',
      containers: [{ name: 'manager', image: `${inCsv}/operand-b:v1` }],
    });
    digest.parent = await pushBundle(
      `${pushTo}/parent-bundle:v1`,
      'parent-operator',
      {
        name: 'parent-operator.v2.0.0',
        annotations: {
          containerImage: `${inCsv}/operand-a:v1`,
          description: `Runs ${inCsv}/operand-c:v1 as a sidecar.`,
        },
        containers: [
          {
            name: 'manager',
            image: `${inCsv}/operand-a:v1`,
            env: [
              { name: 'RELATED_IMAGE_OPERAND_B', value: `${inCsv}/operand-b:v1` },
              { name: 'RELATED_IMAGE_CHILD_BUNDLE', value: `${inCsv}/child-bundle:v1` },
            ],
          },
        ],
      },
      ['amd64', 'arm64'],
    );
    digest.bad = await pushBundle(`${pushTo}/bad-bundle:v1`, 'bad-operator', {
      name: 'bad-operator.v1.0.0',
      containers: [{ name: 'manager', image: `${inCsv}/never-pushed:v1` }],
    });
  });

  afterAll(async () => {
    await batchTopic?.close();
    await system?.stop();
  });

  it('when a two-arch bundle with tagged pull specs is regenerated, then every pull spec is pinned to the served digest, relatedImages is set, bundle_replacements applied and the related bundles stored', async () => {
    const childPinned = `${inCsv}/child-bundle@${digest.child!}`;
    const rebuiltPinned = `${inCsv}/child-bundle-rebuilt@${digest.rebuilt!}`;
    const { status, json } = await submit(system.api, 'regenerate-bundle', {
      from_bundle_image: `${pushTo}/parent-bundle:v1`,
      bundle_replacements: { [childPinned]: rebuiltPinned },
      registry_auths: { auths: { [registryHost]: { auth: secretAuth } } },
    });
    expect(status).toBe(201);
    const id = json.id as number;
    const done = await waitForFinal(system.api, id);
    expect({ state: done.state, reason: done.state_reason }).toEqual({
      state: 'complete',
      reason: 'The request completed successfully',
    });
    expect(done.from_bundle_image_resolved).toBe(`${pushTo}/parent-bundle@${digest.parent!}`);
    expect(done.bundle_image).toBe(`${system.registry}/iib-build:${id}`);
    expect(done.arches).toEqual(['amd64', 'arm64']);
    expect(done.bundle_replacements).toEqual({ [childPinned]: rebuiltPinned });
    const reasons = (done.state_history as { state_reason: string }[]).map((h) => h.state_reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'Resolving from_bundle_image',
        'Regenerating the bundle image for the following arches: amd64, arm64',
        'Creating the manifest list',
      ]),
    );

    const out = done.bundle_image as string;
    expect(await imageArches(out)).toEqual(['amd64', 'arm64']);
    for (const arch of ['amd64', 'arm64']) {
      const cfg = await imageConfig(out, arch);
      expect(cfg.labels['com.redhat.iib.pinned']).toBe('true');
      expect(cfg.labels['operators.operatorframework.io.bundle.package.v1']).toBe('parent-operator');
    }

    const { csv, csvText } = await readBundle(out, 'arm64');
    const container = csv.spec.install.spec.deployments[0]!.spec.template.spec.containers[0]!;
    const a = `${inCsv}/operand-a@${digest.operandA!}`;
    const b = `${inCsv}/operand-b@${digest.operandB!}`;
    const c = `${inCsv}/operand-c@${digest.operandC!}`;
    expect(container.image).toBe(a);
    expect(container.env).toEqual([
      { name: 'RELATED_IMAGE_OPERAND_B', value: b },
      { name: 'RELATED_IMAGE_CHILD_BUNDLE', value: rebuiltPinned },
    ]);
    expect(csv.metadata.annotations.containerImage).toBe(a);
    expect(csv.metadata.annotations.description).toBe(`Runs ${c} as a sidecar.`);
    // relatedImages was absent: IIB sets it from the pinned pull specs (before the replacement,
    // which then rewrites the child bundle in it too).
    const related = csv.spec.relatedImages ?? [];
    expect(related.map((r) => r.image).sort()).toEqual([a, a, b, rebuiltPinned, c].sort());
    expect(related.find((r) => r.name === 'manager')?.image).toBe(a);
    expect(related.find((r) => r.name === 'operand_b')?.image).toBe(b);
    expect(related.find((r) => r.name === 'child_bundle')?.image).toBe(rebuiltPinned);
    for (const r of related) expect(r.image).toMatch(PINNED_SPEC);
    expect(csvText).not.toMatch(/:v1\b/);

    const rb = await fetch(`${system.api}/builds/${id}/related_bundles`);
    expect(rb.status).toBe(200);
    expect(await rb.json()).toEqual([childPinned]);

    // The pull credentials reach the builder, but never the request JSON or the logs.
    const password = Buffer.from(secretAuth, 'base64').toString().split(':')[1]!;
    const shown = JSON.stringify(await (await fetch(`${system.api}/builds/${id}`)).json());
    const logs = await (await fetch(`${system.api}/builds/${id}/logs`)).text();
    expect(logs).toMatch(/skopeo .*inspect --raw .*operand-a:v1 -> exit 0/);
    for (const text of [shown, logs, system.logs('builder'), system.logs('gateway')]) {
      expect(text).not.toContain(secretAuth);
      expect(text).not.toContain(password);
    }
  });

  it('when the organization has customizations, then they run in the configured order', async () => {
    const { json } = await submit(system.api, 'regenerate-bundle', {
      from_bundle_image: `${pushTo}/parent-bundle:v1`,
      organization: 'acme',
    });
    const id = json.id as number;
    const done = await waitForFinal(system.api, id);
    expect({ state: done.state, reason: done.state_reason }).toEqual({
      state: 'complete',
      reason: 'The request completed successfully',
    });
    expect(done.organization).toBe('acme');
    const out = done.bundle_image as string;
    const cfg = await imageConfig(out, 'amd64');
    expect(cfg.labels['operators.operatorframework.io.bundle.package.v1']).toBe('parent-operator-acme');
    expect(cfg.labels['com.redhat.iib.pinned']).toBe('true');
    const { csv, annotations } = await readBundle(out, 'amd64');
    expect(annotations['operators.operatorframework.io.bundle.package.v1']).toBe('parent-operator-acme');
    expect(csv.metadata.annotations['acme.example/pricing']).toBe(
      'https://acme.example/parent-operator-acme',
    );
    const container = csv.spec.install.spec.deployments[0]!.spec.template.spec.containers[0]!;
    // Pinned first (against the real registry), then moved to the organization's registry.
    expect(container.image).toBe(`registry.acme.example/${run}/operand-a@${digest.operandA!}`);
    for (const r of csv.spec.relatedImages ?? [])
      expect(r.image).toMatch(/^registry\.acme\.example\/.*@sha256:/);
    const rb = await fetch(`${system.api}/builds/${id}/related_bundles`);
    expect(await rb.json()).toEqual([`${inCsv}/child-bundle@${digest.child!}`]);
  });

  it('when a related image of the bundle cannot be resolved, then the request fails with a reason naming it', async () => {
    const { json } = await submit(system.api, 'regenerate-bundle', {
      from_bundle_image: `${pushTo}/bad-bundle:v1`,
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state).toBe('failed');
    expect(done.state_reason).toContain(`Failed to inspect docker://${inCsv}/never-pushed:v1.`);
    expect(done.state_reason).toMatch(/skopeo failed: .*(manifest unknown|name unknown|not found)/i);
  });

  it('when a batch of two bundles is submitted, then each request is regenerated and the batch completes', async () => {
    const res = await fetch(`${system.api}/builds/regenerate-bundle-batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        build_requests: [
          { from_bundle_image: `${pushTo}/child-bundle:v1` },
          { from_bundle_image: `${pushTo}/parent-bundle:v1`, organization: 'acme' },
        ],
        annotations: { run },
      }),
    });
    expect(res.status).toBe(201);
    const items = (await res.json()) as { id: number; batch: number }[];
    expect(items).toHaveLength(2);
    const done = await Promise.all(items.map((i) => waitForFinal(system.api, i.id)));
    expect(done.map((d) => d.state)).toEqual(['complete', 'complete']);
    expect(new Set(done.map((d) => d.batch)).size).toBe(1);
    expect(await imageArches(done[0]!.bundle_image as string)).toEqual(['amd64']);
    expect(await imageArches(done[1]!.bundle_image as string)).toEqual(['amd64', 'arm64']);
    const listing = (await (await fetch(`${system.api}/builds?batch=${items[0]!.batch}`)).json()) as {
      items: { state: string }[];
    };
    expect(listing.items.map((i) => i.state)).toEqual(['complete', 'complete']);
    const batch = items[0]!.batch;
    const msgs = await batchTopic.waitFor((m) =>
      m.some((x) => x.applicationProperties.batch === batch && x.applicationProperties.state === 'complete'),
    );
    const states = msgs
      .filter((x) => x.applicationProperties.batch === batch)
      .map((x) => x.applicationProperties.state);
    expect(states[0]).toBe('in_progress');
    expect(states[states.length - 1]).toBe('complete');
  });
});

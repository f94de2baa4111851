import { randomBytes } from 'node:crypto';
import { pushBundle, pushImage, requireRegistry } from '../support/bundle-images';
import { registryHost } from '../support/env';
import { submit } from '../support/index-images';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';

jest.setTimeout(180_000);

const run = `rrb-${randomBytes(4).toString('hex')}`;
const inCsv = `127.0.0.1:${registryHost.split(':')[1] ?? '5000'}/${run}`;
const pushTo = `${registryHost}/${run}`;
const MAX = 3;

/**
 * A chain of nested bundles: top -> mid1 -> mid2 -> leaf (each names the next
 * in its relatedImages, next to an operand that is not a bundle). With
 * IIB_MAX_RECURSIVE_RELATED_BUNDLES=3, the walk from mid1 (2 nested bundles)
 * completes and the walk from top (3) is refused.
 */
describe('recursive-related-bundles through the four services', () => {
  let system: RunningSystem;
  const digest: Record<string, string> = {};

  beforeAll(async () => {
    await requireRegistry();
    system = await startSystem({ env: { IIB_MAX_RECURSIVE_RELATED_BUNDLES: String(MAX) } });
    digest.operand = await pushImage(`${pushTo}/operand:v1`, { files: { 'o.txt': `${run}\n` } });
    const chain = ['leaf', 'mid2', 'mid1', 'top'];
    for (const [i, name] of chain.entries()) {
      const child = chain[i - 1];
      digest[name] = await pushBundle(`${pushTo}/${name}-bundle:v1`, `${name}-operator`, {
        name: `${name}-operator.v1.0.0`,
        containers: [{ name: 'manager', image: `${inCsv}/operand:v1` }],
        relatedImages: [
          { name: 'operand', image: `${inCsv}/operand:v1` },
          ...(child ? [{ name: `${child}-bundle`, image: `${inCsv}/${child}-bundle:v1` }] : []),
        ],
      });
    }
  });

  afterAll(async () => {
    await system?.stop();
  });

  const nested = async (id: number): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${system.api}/builds/${id}/nested-bundles`);
    return { status: res.status, body: await res.json() };
  };

  it('when the chain is within the limit and no organization is given, then the nested bundles are listed deepest first as written in the CSVs', async () => {
    const { status, json } = await submit(system.api, 'recursive-related-bundles', {
      parent_bundle_image: `${pushTo}/mid1-bundle:v1`,
    });
    expect(status).toBe(201);
    const id = json.id as number;
    const done = await waitForFinal(system.api, id);
    expect({ state: done.state, reason: done.state_reason }).toEqual({
      state: 'complete',
      reason: 'The request completed successfully',
    });
    const parentResolved = `${pushTo}/mid1-bundle@${digest.mid1!}`;
    expect(done.parent_bundle_image_resolved).toBe(parentResolved);
    expect((done.nested_bundles as { url: string }).url).toBe(`${system.api}/builds/${id}/nested-bundles`);
    // Newest first; the recorder applies one request's updates in the order they were sent.
    const reasons = (done.state_history as { state_reason: string }[]).map((h) => h.state_reason);
    expect(reasons.slice(0, 2)).toEqual([
      'The request completed successfully',
      'Writing recursive related bundles to a file',
    ]);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'Resolving parent_bundle_image',
        `Finding recursive related bundles for the bundle: ${pushTo}/mid1-bundle:v1`,
      ]),
    );
    expect(await nested(id)).toEqual({
      status: 200,
      body: [`${inCsv}/leaf-bundle:v1`, `${inCsv}/mid2-bundle:v1`, parentResolved],
    });
  });

  it('when an organization is given, then the pull specs are pinned before the related bundles are read', async () => {
    const { json } = await submit(system.api, 'recursive-related-bundles', {
      parent_bundle_image: `${pushTo}/mid1-bundle:v1`,
      organization: 'no-customizations-configured',
    });
    const id = json.id as number;
    const done = await waitForFinal(system.api, id);
    expect(done.state).toBe('complete');
    expect(done.organization).toBe('no-customizations-configured');
    expect((await nested(id)).body).toEqual([
      `${inCsv}/leaf-bundle@${digest.leaf!}`,
      `${inCsv}/mid2-bundle@${digest.mid2!}`,
      `${pushTo}/mid1-bundle@${digest.mid1!}`,
    ]);
  });

  it('when the chain is deeper than IIB_MAX_RECURSIVE_RELATED_BUNDLES, then the request fails with IIB reason and stores no list', async () => {
    const { json } = await submit(system.api, 'recursive-related-bundles', {
      parent_bundle_image: `${pushTo}/top-bundle:v1`,
    });
    const id = json.id as number;
    const done = await waitForFinal(system.api, id);
    expect({ state: done.state, reason: done.state_reason }).toEqual({
      state: 'failed',
      reason: 'Max number of related bundles exceeded. Potential DOS attack!',
    });
    expect((await nested(id)).status).toBe(404);
  });

  it('when the parent bundle does not exist, then the request fails with a reason naming it', async () => {
    const { json } = await submit(system.api, 'recursive-related-bundles', {
      parent_bundle_image: `${pushTo}/no-such-bundle:v1`,
    });
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state).toBe('failed');
    expect(done.state_reason).toContain(`Failed to inspect docker://${pushTo}/no-such-bundle:v1.`);
  });
});

import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuthRegistry, startAuthRegistry } from '../support/auth-registry';
import { testImages } from '../support/env';
import { extractFromImage, imageArches, skopeo, submit } from '../support/index-images';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';

jest.setTimeout(180_000);

const FROM_INDEX_CHANGED =
  'The supplied from_index image changed during the IIB request. Please resubmit the request.';

async function digestOf(ref: string): Promise<string> {
  const raw = await skopeo(['inspect', '--raw', `docker://${ref}`]);
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

/** Every file under dir (recursively) whose content contains one of `needles`. */
async function filesContaining(dir: string, needles: string[]): Promise<string[]> {
  const hits: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && (await stat(p)).size < 64 * 1024 * 1024) {
        const text = await readFile(p, 'latin1');
        if (needles.some((n) => text.includes(n))) hits.push(p);
      }
    }
  };
  await walk(dir);
  return hits;
}

describe('overwrite_from_index on a registry that requires auth', () => {
  let registry: AuthRegistry;
  let system: RunningSystem;
  let workBase: string;
  let repo: string;
  const pending = new Map<string, Promise<Record<string, unknown>>>();

  const ownerCopy = (src: string, dest: string): Promise<string> =>
    skopeo(['copy', '--all', '--dest-creds', registry.owner.token, `docker://${src}`, `docker://${dest}`]);

  const rmRequest = async (fromIndex: string, token?: string): Promise<number> => {
    const { status, json } = await submit(system.api, 'rm', {
      from_index: fromIndex,
      binary_image: testImages.binary,
      operators: ['kube-green'],
      overwrite_from_index: true,
      ...(token ? { overwrite_from_index_token: token } : {}),
    });
    expect(status).toBe(201);
    return json.id as number;
  };

  const track = (name: string, p: Promise<Record<string, unknown>>): void => {
    p.catch(() => undefined);
    pending.set(name, p);
  };

  beforeAll(async () => {
    registry = await startAuthRegistry();
    workBase = await mkdtemp(path.join(os.tmpdir(), 'iib-overwrite-work-'));
    system = await startSystem({
      env: { IIB_BUILDER_CONCURRENCY: '3', IIB_BUILDER_WORK_DIR: workBase },
    });
    repo = `${registry.host}/${system.namespace}/index`;
    for (const tag of ['no-token', 'token', 'moves']) await ownerCopy(testImages.index, `${repo}:${tag}`);
    // Same repository, so moving the tag later is one manifest PUT.
    await ownerCopy(testImages.binary, `${repo}:elsewhere`);

    const noToken = await rmRequest(`${repo}:no-token`);
    track('no-token', waitForFinal(system.api, noToken));
    const withToken = await rmRequest(`${repo}:token`, registry.owner.token);
    track('token', waitForFinal(system.api, withToken));
    const moves = await rmRequest(`${repo}:moves`, registry.owner.token);
    track(
      'moves',
      (async () => {
        // Move the tag once the build is under way (the check runs after the push).
        for (;;) {
          const body = (await (await fetch(`${system.api}/builds/${moves}`)).json()) as Record<
            string,
            unknown
          >;
          const reason = String(body.state_reason);
          if (body.state !== 'in_progress') break;
          if (reason.startsWith('Building the index image') || reason === 'Creating the manifest list') {
            await ownerCopy(`${repo}:elsewhere`, `${repo}:moves`);
            break;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        return waitForFinal(system.api, moves);
      })(),
    );
  });

  afterAll(async () => {
    await system?.stop();
    await registry?.stop();
    if (workBase) await rm(workBase, { recursive: true, force: true });
  });

  it('when no token is given, then the copy onto the from_index is refused and the tag is untouched', async () => {
    const before = await digestOf(`${repo}:no-token`);
    const done = await pending.get('no-token')!;
    expect(done.state).toBe('failed');
    expect(done.state_reason).toMatch(/^skopeo failed: .*(unauthorized|authentication required)/i);
    const history = (done.state_history as { state_reason: string }[]).map((h) => h.state_reason);
    expect(history).toContain(
      `Overwriting the index image ${repo}:no-token with ${system.registry}/iib-build:${done.id as number}`,
    );
    expect(await digestOf(`${repo}:no-token`)).toBe(before);
  });

  it('when the token is given, then the from_index tag points at the built list and the token is nowhere to be read', async () => {
    const done = await pending.get('token')!;
    expect([done.state, done.state_reason]).toEqual([
      'complete',
      'The operator(s) were successfully removed from the index image',
    ]);
    const id = done.id as number;
    const from = `${repo}:token`;
    expect(done.index_image).toBe(from);
    const now = await digestOf(from);
    expect(done.index_image_resolved).toBe(`${repo}@${now}`);
    expect(done.internal_index_image_copy).toBe(`${system.registry}/iib-build:${id}`);
    expect(await digestOf(done.internal_index_image_copy as string)).toBe(now);
    expect(await imageArches(from)).toEqual(['amd64', 'arm64']);
    const { root, dir } = await extractFromImage(from, 'arm64');
    try {
      expect((await readdir(dir)).sort()).toEqual(testImages.indexPackages.filter((p) => p !== 'kube-green'));
    } finally {
      await rm(root, { recursive: true, force: true });
    }

    const { password, token } = registry.owner;
    const secrets = [token, password, Buffer.from(token).toString('base64')];
    const json = await (await fetch(`${system.api}/builds/${id}`)).text();
    const listing = await (await fetch(`${system.api}/builds?verbose=true`)).text();
    const logs = await (await fetch(`${system.api}/builds/${id}/logs`)).text();
    expect(logs).toMatch(
      /skopeo .* copy --all --format v2s2 --authfile \S+ docker:\/\/\S+ docker:\/\/\S+:token/,
    );
    for (const [where, text] of Object.entries({
      'request JSON': json,
      listing,
      'GET /builds/<id>/logs': logs,
      'builder log': system.logs('builder'),
      'gateway log': system.logs('gateway'),
      'scheduler log': system.logs('scheduler'),
    })) {
      expect([where, secrets.filter((s) => text.includes(s))]).toEqual([where, []]);
    }
    // The request's own directory (with the token's auth file) is gone, and once every
    // request of this file has ended (each keeps its token in its own dir while it runs),
    // nothing left holds the token.
    expect((await readdir(workBase)).filter((d) => d.startsWith(`request-${id}-`))).toEqual([]);
    await Promise.all(pending.values());
    const deadline = Date.now() + 30_000;
    while ((await readdir(workBase)).some((d) => d.startsWith('request-')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await filesContaining(workBase, secrets)).toEqual([]);
  });

  it('when the from_index moves during the build, then the request fails with IIB reason and the tag is not overwritten', async () => {
    const done = await pending.get('moves')!;
    expect([done.state, done.state_reason]).toEqual(['failed', FROM_INDEX_CHANGED]);
    expect(await digestOf(`${repo}:moves`)).toBe(await digestOf(`${repo}:elsewhere`));
    const history = (done.state_history as { state_reason: string }[]).map((h) => h.state_reason);
    expect(history).toContain('Creating the manifest list');
    expect(history.some((r) => r.startsWith('Overwriting the index image'))).toBe(false);
  });
});

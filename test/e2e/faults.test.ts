import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { FAULT_POINTS, FaultPoint } from '../../shared/config';
import { testImages } from '../support/env';
import { ExtraProcess, RunningSystem, startSystem, waitForFinal } from '../support/system';
import { startTcpProxy, TcpProxy } from '../support/tcp-proxy';
import { subscribe, TopicSubscriber } from '../support/topic-subscriber';

jest.setTimeout(600_000);

/**
 * The fault suite: PostgreSQL away for 30 s while requests build, and a
 * builder killed with SIGKILL at each phase of a build. Nothing accepted is
 * lost, nothing is reported twice, no completed result changes, and a killed
 * builder leaves no work directory, secret or tool process behind.
 */

async function submit(api: string): Promise<number> {
  const res = await fetch(`${api}/builds/create-empty-index`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from_index: testImages.index, binary_image: testImages.binary }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every file under a directory, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** Container tools still running with this test system's environment. */
async function toolsOf(namespace: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (!['buildah', 'skopeo', 'setpriv', 'podman'].includes(comm)) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (environ.includes(`IIB_AMQP_NAMESPACE=${namespace}.`)) found.push(`${pid} ${comm}`);
  }
  return found;
}

function completeMessages(sub: TopicSubscriber, id: number): number {
  return sub.messages.filter(
    (m) => m.applicationProperties.id === id && m.applicationProperties.state === 'complete',
  ).length;
}

describe('the fault suite: a builder killed at each phase of a build', () => {
  let system: RunningSystem;
  let workBase: string;
  let authTemplate: string;
  let states: TopicSubscriber;

  beforeAll(async () => {
    workBase = await mkdtemp(path.join(os.tmpdir(), 'iib-faults-'));
    // A docker config template makes every request write its own auth file
    // (pull-auth.json) into its work directory: the secret a crash must not leave behind.
    authTemplate = path.join(workBase, 'template.json');
    await writeFile(
      authTemplate,
      JSON.stringify({
        auths: { 'registry.invalid': { auth: Buffer.from('u:fault-secret').toString('base64') } },
      }),
      { mode: 0o600 },
    );
    system = await startSystem({ services: ['gateway', 'scheduler', 'notifier'] });
    states = await subscribe(system.buildStateTopic);
  });

  afterAll(async () => {
    await states?.close();
    await system?.stop();
    await rm(workBase, { recursive: true, force: true });
  });

  const builderEnv = (fault: FaultPoint | ''): Record<string, string> => ({
    IIB_BUILDER_WORK_DIR: path.join(workBase, 'work'),
    IIB_DOCKER_CONFIG_TEMPLATE: authTemplate,
    IIB_BUILDER_FAULT_POINT: fault,
  });
  const nsDir = (): string => path.join(workBase, 'work', `${system.namespace}.`);

  it.each(FAULT_POINTS.map((p) => [p]))(
    'when the builder is killed %s, then the request completes once, keeps its result, and nothing is left behind',
    async (point) => {
      const doomed: ExtraProcess = await system.startExtra('builder', builderEnv(point));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        doomed.child.once('exit', (_code, signal) => resolve(signal)),
      );
      const id = await submit(system.api);
      expect(await exited).toBe('SIGKILL');

      // After the final state was sent, the recorder applies it whether or not its builder lives.
      const recorded =
        point === 'after-final-state'
          ? await waitForFinal(system.api, id, 30_000)
          : ((await (await fetch(`${system.api}/builds/${id}`)).json()) as Record<string, unknown>);
      const leftovers = await filesUnder(nsDir());
      if (point === 'before-first-tool' || point === 'mid-tool') {
        // The crash left the request's auth file on disk: the next builder must remove it.
        expect(leftovers.some((f) => f.endsWith('pull-auth.json'))).toBe(true);
      }
      if (point === 'mid-tool') {
        // The tool the builder had just started dies with it (pdeathsig).
        await until('the tools of the killed builder to exit', async () =>
          (await toolsOf(system.namespace)).length === 0 ? true : undefined,
        );
      }
      if (point === 'after-final-state') expect(recorded.state).toBe('complete');
      else expect(recorded.state).toBe('in_progress');

      const next = await system.startExtra('builder', builderEnv(''));
      const done = await waitForFinal(system.api, id);
      expect(done.state).toBe('complete');
      if (point === 'after-final-state') {
        // Completed before the kill: not rebuilt, the same result.
        await waitFor(() => /request already final, settling without building/.test(next.logs()));
        expect(done.index_image).toBe(recorded.index_image);
        expect(done.index_image_resolved).toBe(recorded.index_image_resolved);
        expect(next.logs()).not.toMatch(new RegExp(`"requestId":${id},[^\\n]*"msg":"build started"`));
      }
      await states.waitFor((msgs) =>
        msgs.some((m) => m.applicationProperties.id === id && m.applicationProperties.state === 'complete'),
      );
      // Give a duplicate the time to show up before counting.
      await new Promise((r) => setTimeout(r, 2000));
      expect(completeMessages(states, id)).toBe(1);

      // The dead builder's directory is gone; the live one holds no request directory once it is done.
      const dirs = await readdir(nsDir());
      expect(dirs).toEqual([expect.stringMatching(new RegExp(`^b-${next.child.pid!}-\\d+$`))]);
      await until('the finished request directory to be removed', async () =>
        (await filesUnder(nsDir())).length === 0 ? true : undefined,
      );
      expect(await toolsOf(system.namespace)).toEqual([]);
      await next.kill('SIGTERM');
    },
  );
});

async function waitFor(pred: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the fault suite: PostgreSQL away for 30 s while requests build', () => {
  let system: RunningSystem;
  let proxy: TcpProxy;
  let states: TopicSubscriber;

  beforeAll(async () => {
    proxy = await startTcpProxy('127.0.0.1', 5432);
    system = await startSystem({ services: ['scheduler', 'builder', 'notifier'] });
    const viaProxy = new URL(system.databaseUrl);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    await system.startExtra('gateway', { IIB_DATABASE_URL: viaProxy.toString() });
    states = await subscribe(system.buildStateTopic);
  });

  afterAll(async () => {
    await states?.close();
    await system?.stop();
    await proxy?.close();
  });

  it('when PostgreSQL goes away while builders report, then no update is lost and every request ends complete, once', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 4; i += 1) ids.push(await submit(system.api));
    // Cut PostgreSQL off as soon as the first build reports progress.
    await until('a build to start', async () => {
      const r = (await (await fetch(`${system.api}/builds/${ids[0]!}`)).json()) as Record<string, unknown>;
      return r.state_reason !== 'The request was initiated' ? true : undefined;
    });
    await proxy.down();
    await new Promise((r) => setTimeout(r, 30_000));
    await proxy.up();
    for (const id of ids) {
      const done = await waitForFinal(system.api, id);
      expect(done.state).toBe('complete');
    }
    await states.waitFor((msgs) =>
      ids.every((id) =>
        msgs.some((m) => m.applicationProperties.id === id && m.applicationProperties.state === 'complete'),
      ),
    );
    await new Promise((r) => setTimeout(r, 2000));
    for (const id of ids) expect(completeMessages(states, id)).toBe(1);
    expect(system.logs('builder')).toMatch(/build finished/);
  });
});

import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot, testImages } from '../support/env';
import { RunningSystem, startSystem } from '../support/system';

jest.setTimeout(600_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const BIN = path.join(repoRoot, 'bin', 'iib.js');

/** The installed command, as a user runs it: `iib <args>` in a process of its own (no terminal). */
function iib(server: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        IIB_SERVER: server,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Log lines (pino JSON) of a service with this message. */
function logLines(
  system: RunningSystem,
  service: 'gateway' | 'scheduler',
  msg: string,
): Record<string, unknown>[] {
  return system
    .logs(service)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

describe('the iib command against the four services', () => {
  let system: RunningSystem;
  let server: string;

  beforeAll(async () => {
    system = await startSystem();
    server = system.api.replace(/\/api\/v1$/, '');
  });

  afterAll(async () => {
    await system?.stop();
  });

  const emptyIndexArgs = [
    'create-empty-index',
    '--from-index',
    testImages.index,
    '--binary-image',
    testImages.binary,
  ];
  let emptyId = 0;

  it('when create-empty-index runs with --wait, then it prints its progress, exits 0 and the summary says complete', async () => {
    const run = await iib(server, [
      ...emptyIndexArgs,
      '--label',
      'com.example.team=rel-eng',
      '--wait',
      '--poll-interval',
      '0.5',
    ]);
    expect(run.stderr).toMatch(/^submitted request \d+ \(create-empty-index, batch \d+\)$/m);
    emptyId = Number(/submitted request (\d+)/.exec(run.stderr)?.[1]);
    // Plain progress lines (no terminal): elapsed time, state, step and reason.
    expect(run.stderr).toMatch(
      new RegExp(
        `^\\[\\d+:\\d\\d\\] request ${emptyId} create-empty-index in_progress \\(step \\d+\\): .+$`,
        'm',
      ),
    );
    expect(run.stderr).toMatch(
      new RegExp(
        `^\\[\\d+:\\d\\d\\] ✔ request ${emptyId} create-empty-index complete: The empty index image was successfully created$`,
        'm',
      ),
    );
    expect(run.stdout).toContain(`Request ${emptyId} (create-empty-index): complete`);
    expect(run.stdout).toMatch(new RegExp(`index_image\\s+${system.registry}/iib-build:${emptyId}`));
    expect(run.code).toBe(0);
  });

  it('when add gets a fixture bundle with --wait --json, then it exits 0 and prints the complete request', async () => {
    const bundle = testImages.bundle('etcd', '0.9.0');
    const run = await iib(server, [
      'add',
      '--bundles',
      bundle,
      '--from-index',
      testImages.index,
      '--binary-image',
      testImages.binary,
      '--wait',
      '--poll-interval',
      '0.5',
      '--json',
    ]);
    expect(run.stderr).toContain('✔ request');
    const done = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(done).toMatchObject({
      request_type: 'add',
      state: 'complete',
      state_reason: 'The operator bundle(s) were successfully added to the index image',
      bundles: [bundle],
    });
    expect(run.code).toBe(0);
  });

  let failedId = 0;

  it('when the bundle image does not exist, then --wait exits 1 and prints the reason', async () => {
    const run = await iib(server, [
      'add',
      '--bundle',
      `${system.registry}/no-such-bundle:v1`,
      '--from-index',
      testImages.index,
      '--binary-image',
      testImages.binary,
      '--wait',
      '--poll-interval',
      '0.5',
    ]);
    expect(run.code).toBe(1);
    const m = /✖ request (\d+) add failed: (.+)$/m.exec(run.stderr);
    expect(m).not.toBeNull();
    failedId = Number(m?.[1]);
    expect(m?.[2]).toMatch(/^skopeo failed: .*(manifest unknown|name unknown|not found)/i);
    // The reason printed is the recorded one.
    const get = await iib(server, ['get', String(failedId), '--json']);
    expect(get.code).toBe(0);
    expect((JSON.parse(get.stdout) as { state_reason: string }).state_reason).toBe(m?.[2]);
  });

  it('when get and list are asked, then they show the requests: a summary, the verbose JSON, the list filtered', async () => {
    const summary = await iib(server, ['get', String(emptyId)]);
    expect(summary.code).toBe(0);
    expect(summary.stdout).toContain(`Request ${emptyId} (create-empty-index): complete`);
    expect(summary.stdout).toContain('The request was initiated');
    expect(summary.stdout).toMatch(/labels\s+\{"com.example.team":"rel-eng"\}/);

    const all = await iib(server, ['list', '--json']);
    expect(all.code).toBe(0);
    const listed = JSON.parse(all.stdout) as {
      items: { id: number; state: string }[];
      meta: { total: number };
    };
    expect(listed.items.map((r) => r.id)).toEqual(expect.arrayContaining([emptyId, failedId]));
    expect(listed.meta.total).toBe(listed.items.length);

    const failed = await iib(server, ['list', '--state', 'failed', '--request-type', 'add', '--json']);
    const items = (JSON.parse(failed.stdout) as { items: { id: number }[] }).items;
    expect(items.map((r) => r.id)).toEqual([failedId]);

    const table = await iib(server, ['list', '--per-page', '1']);
    expect(table.stdout).toMatch(/ID.*TYPE.*STATE.*USER.*BATCH.*UPDATED.*REASON/);
    expect(table.stdout).toMatch(/page 1 of \d+, \d+ request\(s\) \(next: --page 2\)/);

    const missing = await iib(server, ['get', '999999']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('iib: The requested resource was not found (HTTP 404)\n');
  });

  it('when logs --follow is started on a running request, then it streams until the request is final', async () => {
    const submitted = await iib(server, emptyIndexArgs);
    expect(submitted.code).toBe(0);
    const id = Number(submitted.stdout.trim());
    const follow = await iib(server, ['logs', String(id), '--follow']);
    expect(follow.code).toBe(0);
    expect(follow.stderr).toContain(`request ${id} complete: The empty index image was successfully created`);
    // The stream ended with the request: it is final by then, and the stream held its build's log.
    const get = await iib(server, ['get', String(id), '--json']);
    expect((JSON.parse(get.stdout) as { state: string }).state).toBe('complete');
    const whole = await iib(server, ['logs', String(id)]);
    expect(whole.stdout.length).toBeGreaterThan(0);
    // The builder's clean-up after the final state (buildah rmi) may log later than the stream's end.
    expect(whole.stdout.startsWith(follow.stdout)).toBe(true);
    expect(follow.stdout).toMatch(/\$ buildah manifest push .*iib-build:\d+ -> exit 0/);
  });

  it('when requests ran, then the services logged one line per accepted and routed request and each final state with its duration', () => {
    const accepted = logLines(system, 'gateway', 'request accepted');
    expect(accepted).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ requestId: emptyId, requestType: 'create-empty-index', user: null }),
      ]),
    );
    const routed = logLines(system, 'scheduler', 'request routed').filter((l) => l.requestId === emptyId);
    expect(routed).toEqual([expect.objectContaining({ lane: 'iib', serial: false })]);
    const finals = logLines(system, 'gateway', 'state recorded').filter(
      (l) => l.requestId === failedId && l.state === 'failed',
    );
    expect(finals).toHaveLength(1);
    expect(finals[0]?.durationMs).toEqual(expect.any(Number));
    expect(finals[0]?.durationMs as number).toBeGreaterThan(0);
  });

  it('when iib --wait runs in a real terminal (tmux), then a live progress line shows and the final state stays on screen', async () => {
    const tmux = spawnSync('tmux', ['-V']);
    if (tmux.status !== 0)
      throw new Error('tmux is missing: run `bash scripts/stack.sh up` (it installs tmux)');
    const socket = `iib-cli-${process.pid}`;
    const t = (...args: string[]): string => {
      const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const command = [
      `IIB_SERVER=${server}`,
      `TERM=xterm`,
      process.execPath,
      BIN,
      ...emptyIndexArgs,
      '--wait',
      '--poll-interval',
      '0.5',
      '; echo "EXIT=$?"; sleep 600',
    ].join(' ');
    t('new-session', '-d', '-s', 'cli', '-x', '150', '-y', '40', command);
    try {
      const screens: string[] = [];
      const deadline = Date.now() + 300_000;
      let screen = '';
      while (!/EXIT=\d+/.test(screen)) {
        if (Date.now() > deadline) throw new Error(`iib --wait did not end in tmux:\n${screen}`);
        await new Promise((r) => setTimeout(r, 200));
        screen = t('capture-pane', '-p', '-t', 'cli');
        screens.push(screen);
      }
      // While it ran: one spinner line with state, step, reason and elapsed time.
      const live = screens.find((s) =>
        /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] request \d+ create-empty-index in_progress \(step \d+\): .+ · \d+:\d\d\s*$/m.test(s),
      );
      expect(live).toBeDefined();
      // The live line was rewritten in place, never scrolled: one progress line per screen.
      for (const s of screens) expect(s.match(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] request/gm)?.length ?? 0).toBeLessThanOrEqual(1);
      expect(screen).toMatch(
        /^✔ request \d+ create-empty-index complete: The empty index image was successfully created · \d+:\d\d$/m,
      );
      expect(screen).toMatch(/^Request \d+ \(create-empty-index\): complete$/m);
      expect(screen).toContain('EXIT=0');
    } finally {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
    }
  });
});

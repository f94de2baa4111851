import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { repoRoot } from '../support/env';

/** Pids of processes whose command line is exactly `argv`. */
async function pidsRunning(argv: string[]): Promise<number[]> {
  const wanted = argv.join('\0');
  const pids: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.replace(/\0$/, '') === wanted) pids.push(Number(pid));
  }
  return pids;
}

async function until(pred: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return pred();
}

describe('tools run by the builder, when the builder dies', () => {
  it('when the builder process is killed with SIGKILL while a tool runs, then the tool dies too', async () => {
    const runner = path.join(repoRoot, 'dist', 'services', 'builder', 'tools', 'command-runner.js');
    // A duration no other process on the machine uses, to find our tool by its command line.
    const tool = ['sleep', `${50 + Math.floor(Math.random() * 1000) / 1000}`];
    const script = `
      const { CommandRunner } = require(${JSON.stringify(runner)});
      const r = new CommandRunner({ attempts: 1, delayMs: 0, jitterMs: 0, multiplier: 1 }, 120000, () => {});
      void r.run(${JSON.stringify(tool[0])}, [${JSON.stringify(tool[1])}]);
    `;
    const builder = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    expect(await until(async () => (await pidsRunning(tool)).length === 1, 10_000)).toBe(true);
    const exited = once(builder, 'exit');
    builder.kill('SIGKILL');
    await exited;
    expect(await until(async () => (await pidsRunning(tool)).length === 0, 3000)).toBe(true);
  });
});

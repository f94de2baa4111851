import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';

/**
 * Where this builder's requests work: `<base>/<namespace>/b-<pid>-<start>`,
 * one directory per builder process. A builder killed mid-build leaves its
 * request directories (layers, configs and the per-request auth files with
 * their tokens); the next builder to start on the host removes the
 * directories of every builder of its namespace that no longer runs, and
 * never those of a live one (several builders may share a host and a base).
 */
export async function claimWorkRoot(base: string, namespace: string, log: Logger): Promise<string> {
  const nsDir = path.join(base, namespace === '' ? '_' : namespace.replace(/[^A-Za-z0-9_.-]/g, '_'));
  await mkdir(nsDir, { recursive: true, mode: 0o700 });
  const stale: string[] = [];
  for (const name of await readdir(nsDir)) {
    const owner = /^b-(\d+)-(\d+)$/.exec(name);
    if (!owner) continue;
    if (await processRuns(Number(owner[1]), owner[2] as string)) continue;
    stale.push(name);
    await rm(path.join(nsDir, name), { recursive: true, force: true });
  }
  if (stale.length > 0) log.info({ removed: stale }, 'removed work directories of builders that died');
  const mine = path.join(nsDir, `b-${process.pid}-${await startTime(process.pid)}`);
  await mkdir(mine, { recursive: true, mode: 0o700 });
  return mine;
}

/** A process's start time in clock ticks since boot (/proc/<pid>/stat field 22), or "0" where /proc is absent. */
async function startTime(pid: number): Promise<string> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '0';
  } catch {
    return '0';
  }
}

/** Whether the process that made a directory still runs (same pid and start time: pids are reused). */
async function processRuns(pid: number, started: string): Promise<boolean> {
  if (pid === process.pid) return started === (await startTime(pid));
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return started === '0' || started === (await startTime(pid));
}

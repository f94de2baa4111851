import { execFileSync } from 'node:child_process';
import { serviceNode } from './services';

/**
 * A fixed piece of memory-heavy work (small objects and strings, as spans
 * and log lines are) timed in a fresh process on the services' Node.js: its
 * CPU milliseconds, the best of three. Run before and after a benchmark, it
 * shows whether the machine itself changed during the run. On a shared host
 * memory-heavy work can slow down several times while arithmetic barely
 * moves, and tracing, being memory-heavy, then weighs more.
 */
export function machineCheckMs(): number {
  const work = `
    const t = process.cpuUsage();
    let kept = [];
    for (let i = 0; i < 5e5; i++) {
      kept.push({ id: i, name: 'span-' + i, attrs: { a: i, b: 'x' + (i % 97) } });
      if (kept.length === 5e4) kept = [];
    }
    const u = process.cpuUsage(t);
    process.stdout.write(String((u.user + u.system) / 1000));`;
  const runs = [0, 1, 2].map(() =>
    Number(execFileSync(serviceNode(), ['-e', work], { encoding: 'utf8', timeout: 120_000 })),
  );
  return Math.min(...runs);
}

import { readFileSync } from 'node:fs';

/**
 * CPU time (user + system, all threads, ms) a process has used so far, from
 * /proc; undefined where there is none (not Linux) or the process is gone.
 * On a machine shared with other work, a service's CPU time per request is a
 * steadier measure of what tracing costs than its throughput, which swings
 * with whatever else gets the cores.
 */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14, stime 15 (clock ticks, 100 per second).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) the whole machine has spent busy so far (every core: user,
 * nice, system, irq, softirq), from /proc/stat; undefined without it. Per
 * request, it is what a request costs everything it touches: the service,
 * PostgreSQL, the broker, the collector and the load generator.
 */
export function machineCpuMs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // "cpu  user nice system idle iowait irq softirq steal ..." in clock ticks (100 per second).
    const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) * 10;
  } catch {
    return undefined;
  }
}

/** Microseconds per request between two readings in ms; NaN when either is missing. */
export function usPerRequest(
  before: number | undefined,
  after: number | undefined,
  requests: number,
): number {
  return before !== undefined && after !== undefined ? ((after - before) * 1000) / requests : NaN;
}

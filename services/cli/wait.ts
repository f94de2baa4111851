import type { IibClient } from './http-client';
import { CliError, EXIT } from './io';
import type { Progress } from './progress';

/** The fields of IIB's request JSON the CLI reads; the rest is passed through. */
export interface RequestJson {
  id: number;
  request_type: string;
  state: string;
  state_reason: string;
  batch?: number;
  user?: string | null;
  updated?: string;
  state_history?: { state: string; state_reason: string; updated: string }[];
  [key: string]: unknown;
}

export const FINAL_STATES = ['complete', 'failed'];

export function isFinalState(state: string): boolean {
  return FINAL_STATES.includes(state);
}

/** The builder's steps are its state reasons, so the step number is the length of the history. */
export function stepOf(r: RequestJson): number | undefined {
  return r.state_history?.length;
}

export function statusLine(requests: RequestJson[]): string {
  if (requests.length === 1) {
    const r = requests[0] as RequestJson;
    const step = stepOf(r);
    return `request ${r.id} ${r.request_type} ${r.state}${step ? ` (step ${step})` : ''}: ${r.state_reason}`;
  }
  const counts = new Map<string, number>();
  for (const r of requests) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  const running = requests.find((r) => !isFinalState(r.state));
  const detail = running
    ? `; request ${running.id}${stepOf(running) ? ` (step ${stepOf(running)})` : ''}: ${running.state_reason}`
    : '';
  return `${requests.length} requests: ${summary}${detail}`;
}

export function finalLine(requests: RequestJson[]): string {
  const failed = requests.filter((r) => r.state === 'failed');
  if (requests.length === 1) {
    const r = requests[0] as RequestJson;
    return `${r.state === 'complete' ? '✔' : '✖'} request ${r.id} ${r.request_type} ${r.state}: ${r.state_reason}`;
  }
  if (failed.length === 0) return `✔ ${requests.length} requests complete`;
  return [
    `✖ ${failed.length} of ${requests.length} requests failed`,
    ...failed.map((r) => `  request ${r.id} ${r.request_type} failed: ${r.state_reason}`),
  ].join('\n');
}

export interface WaitOptions {
  progress: Progress;
  pollMs: number;
  /** 0: no limit. */
  timeoutMs: number;
  /** How long the API may stay unreachable (a gateway restart) before the wait gives up. */
  unreachableGraceMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Polls the requests until every one is final, showing the latest state
 * reason, step and elapsed time; returns their last JSON. A failed request is
 * a result, not an error: the caller decides the exit code.
 */
export async function waitForRequests(
  client: IibClient,
  initial: RequestJson[],
  options: WaitOptions,
): Promise<RequestJson[]> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const grace = options.unreachableGraceMs ?? 60_000;
  const latest = new Map(initial.map((r) => [r.id, r]));
  let unreachableSince: number | undefined;
  options.progress.update(statusLine([...latest.values()]));
  for (;;) {
    const pending = [...latest.values()].filter((r) => !isFinalState(r.state));
    if (pending.length === 0) break;
    if (options.timeoutMs > 0 && now() - started >= options.timeoutMs) {
      const last = statusLine([...latest.values()]);
      options.progress.stop(`timed out: ${last}`);
      throw new CliError(
        `gave up waiting after ${options.timeoutMs / 1000} s; the request goes on (iib get ${pending[0]?.id})`,
        EXIT.timeout,
      );
    }
    await sleep(options.pollMs);
    try {
      for (const r of pending) {
        latest.set(r.id, await client.json<RequestJson>('GET', `/builds/${r.id}`));
      }
      unreachableSince = undefined;
    } catch (err) {
      unreachableSince ??= now();
      const transient = err instanceof CliError && err.exitCode === EXIT.unreachable;
      if (!transient || now() - unreachableSince > grace) {
        options.progress.stop('✖ stopped waiting');
        throw err;
      }
    }
    options.progress.update(statusLine([...latest.values()]));
  }
  const done = [...latest.values()];
  options.progress.stop(finalLine(done));
  return done;
}

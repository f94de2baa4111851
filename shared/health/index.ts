import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { enableProcessMetrics, METRICS_CONTENT_TYPE, renderMetrics } from '../metrics';

/**
 * One readiness check: resolves (or returns true) when the dependency
 * answers; false or a rejection means not ready. Each runs under
 * `READY_CHECK_TIMEOUT_MS`, so a hung dependency makes /readyz answer 503
 * quickly instead of making the probe time out.
 */
export type ReadyCheck = () => boolean | Promise<unknown>;

/** Short: a probe's own timeout is a second by default in Kubernetes. */
export const READY_CHECK_TIMEOUT_MS = 800;

export const OPS_PATHS = ['/healthz', '/readyz', '/metrics'] as const;

export interface ReadyReport {
  ready: boolean;
  /** 'ok', or why the check failed. */
  checks: Record<string, string>;
}

export async function checkReadiness(
  checks: Record<string, ReadyCheck>,
  timeoutMs = READY_CHECK_TIMEOUT_MS,
): Promise<ReadyReport> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => runCheck(checks[n] as ReadyCheck, timeoutMs)));
  const report: ReadyReport = { ready: true, checks: {} };
  names.forEach((n, i) => {
    const r = results[i] as string;
    report.checks[n] = r;
    if (r !== 'ok') report.ready = false;
  });
  return report;
}

/** Rejects when `promise` has not settled within `ms` (the promise itself runs on). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function runCheck(check: ReadyCheck, timeoutMs: number): Promise<string> {
  try {
    const r = await withTimeout(Promise.resolve().then(check), timeoutMs);
    return r === false ? 'down' : 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Serves /healthz, /readyz and /metrics on any node:http response (the
 * health listener's, or express's in the gateway). Returns false for other
 * paths so the caller can go on. /healthz only proves the event loop answers:
 * a dependency that is away must not get the process restarted, only taken
 * out of rotation (/readyz).
 */
export async function serveOpsPath(
  req: IncomingMessage,
  res: ServerResponse,
  checks: Record<string, ReadyCheck>,
): Promise<boolean> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  switch (path) {
    case '/healthz':
      send(res, 200, 'application/json', '{"status":"ok"}');
      return true;
    case '/readyz': {
      const report = await checkReadiness(checks);
      send(res, report.ready ? 200 : 503, 'application/json', JSON.stringify(report));
      return true;
    }
    case '/metrics':
      send(res, 200, METRICS_CONTENT_TYPE, await renderMetrics());
      return true;
    default:
      return false;
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

export interface HealthListenerOptions {
  host: string;
  /** 0: any free port (logged). */
  port: number;
  checks: Record<string, ReadyCheck>;
  log: Logger;
}

export interface HealthListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The scheduler's, builder's and notifier's small HTTP listener for probes
 * and scrapes; no express, three paths, nothing else.
 */
export async function startHealthListener(options: HealthListenerOptions): Promise<HealthListener> {
  enableProcessMetrics();
  const server: Server = createServer((req, res) => {
    serveOpsPath(req, res, options.checks)
      .then((served) => {
        if (!served) send(res, 404, 'application/json', '{"error":"not found"}');
      })
      .catch((err: unknown) => {
        options.log.error({ err }, 'health endpoint failed');
        if (!res.headersSent) send(res, 500, 'application/json', '{"error":"internal error"}');
        else res.end();
      });
  });
  // A scrape or probe that hangs must not hold the process at shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  options.log.info({ host: options.host, port, paths: OPS_PATHS }, 'health listener started');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The listener when `IIB_HEALTH_PORT` is set, else nothing; returns the
 * stopper for runService (closing it last keeps probes answering while
 * the rest stops).
 */
export async function maybeStartHealthListener(
  health: { port?: number; host: string },
  checks: Record<string, ReadyCheck>,
  log: Logger,
): Promise<() => Promise<void>> {
  if (health.port === undefined) {
    log.debug('IIB_HEALTH_PORT is not set: no health listener');
    return () => Promise.resolve();
  }
  const listener = await startHealthListener({ host: health.host, port: health.port, checks, log });
  return () => listener.close();
}

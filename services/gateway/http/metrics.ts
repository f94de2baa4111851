import type { Request, RequestHandler, Response } from 'express';
import { httpRequestDuration } from '../../../shared/metrics';

/**
 * Observes every response's latency under its route template
 * (`/api/v1/builds/:id`), never the raw path: ids in a label would make one
 * series per request.
 */
export function httpMetrics(): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      httpRequestDuration.observe(
        { method: req.method, route: routeTemplate(req, res), status: String(res.statusCode) },
        seconds,
      );
    });
    next();
  };
}

/**
 * Remembers the mount path of the router it is used in: express restores
 * `req.baseUrl` when an error leaves the router, before the response ends.
 */
export const rememberMount: RequestHandler = (req, res, next) => {
  (res.locals as { mount?: string }).mount = req.baseUrl;
  next();
};

/** The matched route's template; paths express did not route are one series. */
export function routeTemplate(req: Request, res: Response): string {
  const route = req.route as { path?: unknown } | undefined;
  const mount = (res.locals as { mount?: string }).mount ?? req.baseUrl;
  if (typeof route?.path === 'string') return `${mount}${route.path}`;
  if (OPS.has(req.path)) return req.path;
  return 'unmatched';
}

const OPS = new Set(['/healthz', '/readyz', '/metrics']);

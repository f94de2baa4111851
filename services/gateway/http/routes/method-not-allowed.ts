import type { RequestHandler } from 'express';
import { AppError } from '../../../../shared/errors';
import { API_ROUTES } from './table';

/** Werkzeug's answer, which IIB's `json_error` passes on for a known URL and the wrong method. */
export class MethodNotAllowedError extends AppError {
  override readonly status: number = 405;
  constructor(readonly allow: string[]) {
    super('The method is not allowed for the requested URL.');
  }
}

/** A route's path as a pattern: Flask's `<int:request_id>` and an optional trailing slash. */
function pattern(path: string): RegExp {
  const escaped = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\{\w+\}/g, '\\d+')}/?$`);
}

/** The API's URLs (under /api/v1) and their methods, from the one route table. */
const ROUTES: [RegExp, string[]][] = [...new Set(API_ROUTES.map((r) => r.path))].map((path) => [
  pattern(path),
  API_ROUTES.filter((r) => r.path === path).map((r) => r.method.toUpperCase()),
]);

/**
 * A known URL with another method is a 405, as in IIB, not a 404. It runs
 * before the routes so that `GET /builds/add` is not taken for
 * `GET /builds/<id>` (Flask's `<int:>` would not match `add` either).
 */
export function methodNotAllowed(): RequestHandler {
  return (req, _res, next) => {
    // express answers OPTIONS itself, and HEAD is served by each GET route.
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (method !== 'OPTIONS') {
      const known = ROUTES.find(([pattern]) => pattern.test(req.path));
      if (known && !known[1].includes(method)) {
        const allow = known[1].flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
        throw new MethodNotAllowedError([...allow, 'OPTIONS']);
      }
    }
    next();
  };
}

import type { RequestHandler } from 'express';
import { AppError } from '../../../shared/errors';
import { BATCH_VALIDATORS, SINGLE_VALIDATORS } from './submit';

/** Werkzeug's answer, which IIB's `json_error` passes on for a known URL and the wrong method. */
export class MethodNotAllowedError extends AppError {
  override readonly status: number = 405;
  constructor(readonly allow: string[]) {
    super('The method is not allowed for the requested URL.');
  }
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const POST_PATHS = [...Object.keys(SINGLE_VALIDATORS), ...Object.keys(BATCH_VALIDATORS)];

/** The API's URLs (under /api/v1) and their methods, as IIB's Flask routes declare them. */
const ROUTES: [RegExp, string[]][] = [
  [/^\/builds\/?$/, ['GET']],
  [/^\/builds\/\d+\/?$/, ['GET', 'PATCH']],
  [/^\/builds\/\d+\/(logs|related_bundles|nested-bundles|deprecation-schema)\/?$/, ['GET']],
  [new RegExp(`^(${POST_PATHS.map(escape).join('|')})/?$`), ['POST']],
  [/^\/(healthcheck|openapi\.json)\/?$/, ['GET']],
];

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

import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError, errorMessage } from '../../../shared/errors';
import { AuthenticationFailed } from '../auth';
import { BODY_VERIFY_FAILED } from './input-guard';
import { MethodNotAllowedError } from './routes/method-not-allowed';
import { isDatabaseDown, isUnstorableInput } from '../db/errors';

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
}

/** IIB's wording where it has one; body-parser's 403 for a failed `verify` is our UTF-8 check, a 400. */
function bodyErrorAnswer(status: number, type: string | undefined, message: string): [number, string] {
  switch (type) {
    case 'entity.parse.failed':
      return [400, 'The input data must be a JSON object'];
    case 'entity.too.large':
      return [413, 'The request body is too large'];
    case BODY_VERIFY_FAILED:
      return [400, message];
    case undefined:
      // A decompression error (a corrupt gzip body): zlib's words alone would puzzle a client.
      return [status, `The request body could not be read: ${message}`];
    default:
      return [status, message];
  }
}

/** The one place errors become HTTP answers: `{"error": ...}` with IIB's status codes. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (err instanceof AuthenticationFailed && err.challenges.length > 0) {
      res.set('WWW-Authenticate', err.challenges.join(', '));
    }
    if (err instanceof MethodNotAllowedError) res.set('Allow', err.allow.join(', '));
    if (err instanceof AppError) {
      if (err.status >= 500) log.error({ err }, 'request failed');
      res.status(err.status).json({ error: err.message });
      return;
    }
    // The router could not decode a path parameter (`/builds/%E0%A4%A`): the client's fault.
    if (err instanceof URIError) {
      res.status(400).json({ error: 'The request path is not valid percent-encoded UTF-8' });
      return;
    }
    const bp = err as BodyParserError | null;
    // body-parser, raw-body and zlib errors carry http-errors' `status` and `expose`.
    if (bp && typeof bp.status === 'number' && bp.status >= 400 && bp.status < 500 && bp.expose === true) {
      const [status, message] = bodyErrorAnswer(bp.status, bp.type, errorMessage(err));
      res.status(status).json({ error: message });
      return;
    }
    if (isUnstorableInput(err)) {
      // Input the validators let through but PostgreSQL refuses: a gap to close, not a server fault.
      log.warn({ err }, 'input refused by the database');
      res.status(400).json({ error: 'The input data holds a value that cannot be stored' });
      return;
    }
    if (isDatabaseDown(err)) {
      log.error({ err }, 'database unavailable');
      res.status(503).json({ error: 'The database is unavailable, try again later' });
      return;
    }
    // A bad query on our side: the message may hold SQL with values, so log it, do not answer it.
    log.error({ err }, 'unexpected error');
    res.status(500).json({ error: 'An unexpected error occurred' });
  };
}

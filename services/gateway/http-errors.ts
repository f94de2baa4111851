import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError, errorMessage } from '../../shared/errors';
import { AuthenticationFailed } from './auth';

interface BodyParserError {
  type?: string;
  status?: number;
}

/** The one place errors become HTTP answers: `{"error": ...}` with IIB's status codes. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (err instanceof AuthenticationFailed && err.challenges.length > 0) {
      res.set('WWW-Authenticate', err.challenges.join(', '));
    }
    if (err instanceof AppError) {
      if (err.status >= 500) log.error({ err: errorMessage(err) }, 'request failed');
      res.status(err.status).json({ error: err.message });
      return;
    }
    const bp = err as BodyParserError | null;
    if (bp && typeof bp.type === 'string' && typeof bp.status === 'number' && bp.status < 500) {
      const message =
        bp.type === 'entity.parse.failed'
          ? 'The input data must be a JSON object'
          : bp.type === 'entity.too.large'
            ? 'The request body is too large'
            : errorMessage(err);
      res.status(bp.status).json({ error: message });
      return;
    }
    if (isDatabaseDown(err)) {
      log.error({ err: errorMessage(err) }, 'database unavailable');
      res.status(503).json({ error: 'The database is unavailable, try again later' });
      return;
    }
    // A bad query on our side: the message may hold SQL with values, so log it, do not answer it.
    log.error({ err: errorMessage(err) }, 'unexpected error');
    res.status(500).json({ error: 'An unexpected error occurred' });
  };
}

/** Connection-level failures of PostgreSQL or the pool: worth a retry, not a 500. */
export function isDatabaseDown(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  const msg = errorMessage(err);
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'ENOTFOUND',
      'EPIPE',
      '57P01',
      '57P02',
      '57P03',
      '53300',
      '08006',
      '08001',
      '08003',
      '08004',
    ].includes(code ?? '') ||
    /Knex: Timeout acquiring a connection|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
      msg,
    )
  );
}

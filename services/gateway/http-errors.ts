import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError, errorMessage } from '../../shared/errors';

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
}

/** The one place errors become HTTP answers: `{"error": ...}` with IIB's status codes. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (err instanceof AppError) {
      if (err.status >= 500) log.error({ err }, 'request failed');
      res.status(err.status).json({ error: err.message });
      return;
    }
    const bp = err as BodyParserError;
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
    log.error({ err }, 'unexpected error');
    res.status(500).json({ error: 'An unexpected error occurred' });
  };
}

function isDatabaseDown(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  const msg = errorMessage(err);
  return (
    code === 'ECONNREFUSED' ||
    code === '57P01' ||
    code === '57P03' ||
    /Knex: Timeout acquiring a connection|Connection terminated/.test(msg)
  );
}

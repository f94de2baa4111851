import { errorMessage } from '../../../shared/errors';

/**
 * How the gateway reads PostgreSQL's failures. The three questions differ
 * on purpose: the recorder holds an update unless it can never be stored
 * (broad: "unknown" means retry), while an HTTP answer says 503 only when
 * the server is certainly out of reach and 400 only for values it refused
 * (narrow: "unknown" means 500).
 */

/**
 * For the recorder, which must never drop a builder's update: may a failed
 * write succeed later? Yes for a broken connection, a pool timeout, a
 * serialization failure, or anything unknown: the update is held and
 * retried. No for data and integrity errors (SQLSTATE classes 22, 23) and
 * our own bad SQL (42): they never will, and holding the update would only
 * block its request.
 */
export function isTransientDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^(22|23|42)[0-9A-Z]{3}$/.test(code)) return false;
  return true;
}

/**
 * For an HTTP answer: is PostgreSQL (or the pool in front of it) out of
 * reach right now? Only connection-level failures say yes, so the client
 * gets a 503 and tries again; anything else stays a 400 or a 500.
 */
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

/**
 * For an HTTP answer: did PostgreSQL refuse the values the client sent?
 * Errors caused by the values of a statement, not by its SQL or
 * the server: data exceptions (class 22: a NUL, bad Unicode, malformed JSON,
 * a number out of range) and program limits (54: an index row too large,
 * JSON nested too deeply). Anything else stays a 500 or, when the server is
 * away, a 503.
 */
export function isUnstorableInput(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown } | null;
  if (typeof e?.code !== 'string' || typeof e.severity !== 'string') return false;
  return e.code.startsWith('22') || e.code.startsWith('54');
}

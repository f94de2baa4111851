import { isUtf8 } from 'node:buffer';
import express from 'express';
import type { RequestHandler } from 'express';
import { ValidationError } from '../../../shared/errors';
import { LIMITS } from '../requests/validation/limits';
import { assertSafeJson } from '../requests/validation/safe-json';

/** body-parser reports an error thrown by `verify` with this type; the error funnel answers 400. */
export const BODY_VERIFY_FAILED = 'entity.verify.failed';

/**
 * express.json, refusing a body that is not valid UTF-8: the decoder would
 * otherwise turn bad bytes into U+FFFD and store a pull spec the client
 * never sent. The size limit applies to the inflated body, so a gzip bomb
 * stops at `maxBodyBytes`.
 */
export function jsonBody(maxBodyBytes: number): RequestHandler {
  return express.json({
    limit: maxBodyBytes,
    strict: false,
    verify: (_req, _res, buf, encoding) => {
      if (/^utf-?8$/i.test(encoding) && !isUtf8(buf)) {
        throw new Error('The request body is not valid UTF-8');
      }
    },
  });
}

/** Each `key=value` of a raw query string decodes as percent-encoded UTF-8. */
function wellEncodedQuery(url: string): boolean {
  const start = url.indexOf('?');
  if (start < 0) return true;
  for (const part of url.slice(start + 1).split('&')) {
    try {
      decodeURIComponent(part);
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Checks once, for every route, what no validator expects and PostgreSQL
 * refuses: a query string that is not percent-encoded UTF-8, and a NUL or an
 * unpaired surrogate in any query parameter or body string (values and keys,
 * at any depth), or a body nested too deeply to walk or store.
 */
export function inputGuard(): RequestHandler {
  return (req, _res, next) => {
    if (!wellEncodedQuery(req.originalUrl)) {
      throw new ValidationError('The query string is not valid percent-encoded UTF-8');
    }
    assertSafeJson(req.query, LIMITS.depth, 'the query string');
    if (req.body !== undefined) assertSafeJson(req.body, LIMITS.depth);
    next();
  };
}

import type { NextFunction, Request, Response } from 'express';
import pino from 'pino';
import { isDatabaseDown, isUnstorableInput } from '../../../services/gateway/db/errors';
import { errorHandler } from '../../../services/gateway/http/errors';
import { ValidationError } from '../../../shared/errors';

/** What the funnel answered: the status and the body it sent. */
function answer(err: unknown): { status: number; body: unknown } {
  const out = { status: 0, body: undefined as unknown };
  const res = {
    status(code: number) {
      out.status = code;
      return this;
    },
    json(body: unknown) {
      out.body = body;
      return this;
    },
    set() {
      return this;
    },
  } as unknown as Response;
  errorHandler(pino({ level: 'silent' }))(err, {} as Request, res, (() => undefined) as NextFunction);
  return out;
}

/** The shape node-postgres gives a server error. */
const pgError = (code: string, message = 'x'): Error =>
  Object.assign(new Error(message), { code, severity: 'ERROR' });

/** The shape http-errors (body-parser, raw-body) gives a client error. */
const httpError = (status: number, message: string, type?: string): Error =>
  Object.assign(new Error(message), { status, expose: status < 500, type });

describe('HTTP error funnel', () => {
  it.each<[string, unknown, number, string]>([
    ['a validation error', new ValidationError('"x" must be set'), 400, '"x" must be set'],
    [
      'a path the router cannot decode',
      new URIError('URI malformed'),
      400,
      'The request path is not valid percent-encoded UTF-8',
    ],
    [
      'malformed JSON',
      httpError(400, 'Unexpected token', 'entity.parse.failed'),
      400,
      'The input data must be a JSON object',
    ],
    [
      'a body too large',
      httpError(413, 'too large', 'entity.too.large'),
      413,
      'The request body is too large',
    ],
    [
      'a body that is not UTF-8',
      httpError(403, 'The request body is not valid UTF-8', 'entity.verify.failed'),
      400,
      'The request body is not valid UTF-8',
    ],
    [
      'an unsupported charset',
      httpError(415, 'unsupported charset "LATIN1"', 'charset.unsupported'),
      415,
      'unsupported charset "LATIN1"',
    ],
    [
      'a corrupt gzip body',
      httpError(400, 'incorrect header check'),
      400,
      'The request body could not be read: incorrect header check',
    ],
    [
      'a NUL PostgreSQL refuses',
      pgError('22P05', 'unsupported Unicode escape sequence'),
      400,
      'The input data holds a value that cannot be stored',
    ],
    [
      'invalid UTF-8 PostgreSQL refuses',
      pgError('22021'),
      400,
      'The input data holds a value that cannot be stored',
    ],
    [
      'an index row too large',
      pgError('54000', 'index row size 9000 exceeds'),
      400,
      'The input data holds a value that cannot be stored',
    ],
    ['PostgreSQL shutting down', pgError('57P01'), 503, 'The database is unavailable, try again later'],
    [
      'PostgreSQL refusing connections',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      503,
      'The database is unavailable, try again later',
    ],
    [
      'a pool timeout',
      new Error('Knex: Timeout acquiring a connection. The pool is probably full.'),
      503,
      'The database is unavailable, try again later',
    ],
    [
      'a bad query of ours',
      pgError('42703', 'column "nope" does not exist'),
      500,
      'An unexpected error occurred',
    ],
    ['a bug', new TypeError('x is undefined'), 500, 'An unexpected error occurred'],
    [
      'a server-side stream error',
      httpError(500, 'stream is not readable', 'stream.not.readable'),
      500,
      'An unexpected error occurred',
    ],
  ])('when %s reaches it, then the status and message are IIB-shaped', (_name, err, status, error) => {
    expect(answer(err)).toEqual({ status, body: { error } });
  });

  it('when an error has a class-22 code but is not from PostgreSQL, then it is not taken for bad input', () => {
    expect(isUnstorableInput(Object.assign(new Error('x'), { code: '22021' }))).toBe(false);
    expect(isUnstorableInput(pgError('22021'))).toBe(true);
    expect(isDatabaseDown(pgError('22021'))).toBe(false);
  });
});

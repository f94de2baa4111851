import { isDatabaseDown, isTransientDbError, isUnstorableInput } from '../../../services/gateway/db/errors';

const pg = (code: string): Error => Object.assign(new Error('x'), { code, severity: 'ERROR' });
const net = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });

describe('what a PostgreSQL failure means', () => {
  // [error, recorder retries the update?, HTTP answers 503?, HTTP answers 400?]
  const cases: [string, Error, boolean, boolean, boolean][] = [
    ['connection refused', net('ECONNREFUSED'), true, true, false],
    ['server shutting down (57P01)', pg('57P01'), true, true, false],
    [
      'pool timeout',
      new Error('Knex: Timeout acquiring a connection. The pool is probably full.'),
      true,
      true,
      false,
    ],
    ['serialization failure (40001)', pg('40001'), true, false, false],
    ['an unknown error', new Error('something else'), true, false, false],
    ['bad byte sequence (22021)', pg('22021'), false, false, true],
    ['index row too large (54000)', pg('54000'), true, false, true],
    ['unique violation (23505)', pg('23505'), false, false, false],
    ['our bad SQL (42601)', pg('42601'), false, false, false],
  ];
  it.each(cases)('%s', (_name, err, retry, down, input) => {
    expect([isTransientDbError(err), isDatabaseDown(err), isUnstorableInput(err)]).toEqual([
      retry,
      down,
      input,
    ]);
  });
});

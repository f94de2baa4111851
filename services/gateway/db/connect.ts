import knexFactory, { Knex } from 'knex';

/**
 * Short timeouts: with the database down a request must fail fast with a
 * 503, not wait a minute for a pooled connection.
 */
export function createDb(url: string, pool = { min: 0, max: 10 }): Knex {
  return knexFactory({
    client: 'pg',
    connection: { connectionString: url, connectionTimeoutMillis: 3000 },
    pool,
    acquireConnectionTimeout: 5000,
  });
}

import knexFactory, { Knex } from 'knex';

export function createDb(url: string, pool = { min: 0, max: 10 }): Knex {
  return knexFactory({ client: 'pg', connection: url, pool });
}

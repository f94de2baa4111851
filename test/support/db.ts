import { createHash } from 'node:crypto';
import knexFactory, { Knex } from 'knex';
import { Client } from 'pg';
import { migrateLatest, migrationNames } from '../../services/gateway/db/migrations';
import { databaseUrl } from './env';

const START_HINT = 'PostgreSQL is not reachable; start the local stack with: npm run stack';

function urlFor(database: string): string {
  const u = new URL(databaseUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: urlFor('postgres'), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`${START_HINT} (${(err as Error).message})`, { cause: err });
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A migrated template, named after the migrations it holds, built once for all test files. */
async function ensureTemplate(): Promise<string> {
  const hash = createHash('sha256').update(migrationNames().join(',')).digest('hex').slice(0, 10);
  const name = `iib_gateway_tpl_${hash}`;
  await admin(async (c) => {
    // One creator at a time across jest workers.
    await c.query('SELECT pg_advisory_lock(7262001)');
    try {
      const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) {
        const building = `${name}_building`;
        await c.query(`DROP DATABASE IF EXISTS ${building}`);
        await c.query(`CREATE DATABASE ${building}`);
        const db = knexFactory({ client: 'pg', connection: urlFor(building), pool: { min: 0, max: 1 } });
        try {
          await migrateLatest(db);
        } finally {
          await db.destroy();
        }
        await c.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock(7262001)');
    }
  });
  return name;
}

export interface TestDatabase {
  name: string;
  url: string;
  db: Knex;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh database for one test file: `CREATE DATABASE x TEMPLATE <migrated template>`. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const template = await ensureTemplate();
  const name = `iib_test_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}`;
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  });
  const url = urlFor(name);
  const db = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 10 } });
  return {
    name,
    url,
    db,
    drop: async () => {
      await db.destroy();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

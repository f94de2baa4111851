import { loadDatabaseUrl } from '../../shared/config';
import { createLogger } from '../../shared/logging';
import { createDb } from './db/connect';
import { migrateLatest } from './db/migrations';

/** `node dist/services/gateway/migrate.js`: brings the schema up to date. */
async function main(): Promise<void> {
  const log = createLogger('migrate');
  const db = createDb(loadDatabaseUrl());
  try {
    await migrateLatest(db);
    log.info('database schema is up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`migration failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

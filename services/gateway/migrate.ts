import { loadDatabaseUrl, loadOrExit } from '../../shared/config';
import { createLogger } from '../../shared/logging';
import { createDb } from './db/connect';
import { migrateLatest } from './db/migrations';

/**
 * `node dist/services/gateway/migrate.js`: brings the schema up to date (the
 * Kubernetes migration Job and compose's `migrate` run it; the gateway also
 * migrates at start, which is a no-op once this ran).
 */
async function main(): Promise<void> {
  const url = loadOrExit(() => loadDatabaseUrl());
  const log = createLogger('migrate');
  const db = createDb(url);
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

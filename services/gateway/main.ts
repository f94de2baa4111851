import type { Server } from 'node:http';
import { loadGatewayConfig, loadOrExit } from '../../shared/config';
import { runService } from '../../shared/lifecycle';
import { createLogger } from '../../shared/logging';
import { Messaging, Names } from '../../shared/messaging';
import { shutdownTracing } from '../../shared/tracing';
import { createApp } from './app';
import { createDb } from './db/connect';
import { migrateLatest } from './db/migrations';
import { OutboxRelay } from './outbox-relay';
import { createRecorder } from './recorder';
import { RequestStore } from './store';

const config = loadOrExit(() => loadGatewayConfig());
const log = createLogger('gateway', config.logLevel);

void runService(log, async () => {
  const db = createDb(config.databaseUrl);
  await migrateLatest(db);
  const store = new RequestStore(db);
  const messaging = new Messaging(config.amqp, log);
  const relay = new OutboxRelay(db, messaging, log, { pollMs: config.outboxPollMs });
  const kick = (): void => relay.kick();
  await messaging.consumeQueue(Names.stateUpdates, createRecorder({ store, log, onCommitted: kick }), {
    concurrency: 8,
  });
  relay.start();
  const app = createApp({ config, store, log, onCommitted: kick });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
  });
  log.info({ address: server.address() }, 'HTTP API listening');
  return [
    shutdownTracing,
    () => db.destroy(),
    () => messaging.close(),
    () => relay.stop(),
    () => new Promise<void>((resolve) => server.close(() => resolve())),
  ];
});

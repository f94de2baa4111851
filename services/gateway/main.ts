import type { Server } from 'node:http';
import { loadGatewayConfig, loadOrExit } from '../../shared/config';
import { SecretBox } from '../../shared/crypto';
import { runService } from '../../shared/lifecycle';
import type { FinalStateEvent } from '../../shared/contracts';
import { READY_CHECK_TIMEOUT_MS, withTimeout } from '../../shared/health';
import { createLogger } from '../../shared/logging';
import { enableProcessMetrics, setOutboxSource } from '../../shared/metrics';
import { Messaging, Names } from '../../shared/messaging';
import { shutdownTracing } from '../../shared/tracing';
import { createApp } from './http/app';
import { createAuthenticators } from './auth';
import { createDb } from './db/connect';
import { migrateLatest } from './db/migrations';
import { readOutboxBacklog } from './outbox/outbox';
import { OutboxRelay } from './outbox/relay';
import { createRecorder } from './outbox/recorder';
import { KnexRequestStore } from './db/knex-store';
import { Sealer, secretsAssociatedData } from './requests/submit';

const config = loadOrExit(() => loadGatewayConfig());
const log = createLogger('gateway', config.logLevel);

void runService(log, async () => {
  const box = config.secretsKey ? new SecretBox(config.secretsKey) : undefined;
  if (!box) log.warn('IIB_SECRETS_KEY is not set: requests with tokens or registry_auths will be refused');
  const sealer: Sealer | undefined = box && ((secrets, id) => box.seal(secrets, secretsAssociatedData(id)));
  const authenticators = createAuthenticators(config, log);
  for (const a of authenticators) if (a.check) await a.check();
  log.info(
    { modes: authenticators.map((a) => a.name), loginDisabled: config.loginDisabled },
    'authentication',
  );
  const db = createDb(config.databaseUrl);
  await migrateLatest(db);
  const store = new KnexRequestStore(db);
  const messaging = new Messaging(config.amqp, log);
  const relay = new OutboxRelay(db, messaging, log, { pollMs: config.outboxPollMs });
  const kick = (): void => relay.kick();
  const finalStates = messaging.senderTo(
    messaging.dialect.topicTarget(messaging.queueName(Names.finalStates)),
  );
  const answer = async (event: FinalStateEvent): Promise<void> => {
    await finalStates.send({
      body: event,
      applicationProperties: { request_id: event.request_id, state: event.state },
      durable: false,
    });
  };
  // retryInPlace: an update that cannot be recorded yet (PostgreSQL away) is
  // held and retried, never given up on, whatever the outage's length.
  messaging.consumeQueue(Names.stateUpdates, createRecorder({ store, log, onCommitted: kick, answer }), {
    concurrency: 8,
    retryInPlace: true,
    // A held update goes back to the broker only with a dying gateway: never dead-letter it for that.
    countBrokerDeliveries: false,
    retryBaseDelayMs: 250,
    retryMaxDelayMs: 5000,
  });
  relay.start();
  enableProcessMetrics();
  setOutboxSource(() => withTimeout(readOutboxBacklog(db), READY_CHECK_TIMEOUT_MS));
  const app = createApp({
    config,
    store,
    sealer,
    log,
    authenticators,
    onCommitted: kick,
    readiness: {
      database: () => db.raw('SELECT 1'),
      broker: () => messaging.connection.up,
    },
  });
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

import { loadNotifierConfig, loadOrExit } from '../../shared/config';
import { runService } from '../../shared/lifecycle';
import { createLogger, safeUrl } from '../../shared/logging';
import { AmqpConnection, AmqpSender, getDialect, Messaging, Names } from '../../shared/messaging';
import { shutdownTracing } from '../../shared/tracing';
import { batchStateProperties, buildStateProperties, createRepublisher } from './republisher';

const config = loadOrExit(() => loadNotifierConfig());
const log = createLogger('notifier', config.logLevel);

void runService(log, async () => {
  const ext = config.external;
  let external: AmqpConnection | undefined;
  if (ext.urls.length === 0) {
    log.error('IIB_MESSAGING_URLS is not set: no state message will be sent');
  } else {
    external = new AmqpConnection({ urls: ext.urls, ca: ext.ca, cert: ext.cert, key: ext.key }, log.child({ broker: 'external' }));
    log.info({ urls: ext.urls.map(safeUrl), dialect: ext.dialect }, 'external broker');
  }
  const dialect = getDialect(ext.dialect);
  const senderFor = (dest: string | undefined, kind: string): AmqpSender | undefined => {
    if (!dest) {
      log.warn({ kind }, `no ${kind} destination configured: ${kind} messages will not be sent`);
      return undefined;
    }
    if (!external) return undefined;
    log.info({ kind, destination: dest }, `${kind} messages go to ${dest}`);
    return new AmqpSender(external, dialect.destination(dest), log, ext.timeoutMs);
  };
  const buildSender = senderFor(ext.buildStateDestination, 'build state');
  const batchSender = senderFor(ext.batchStateDestination, 'batch state');

  let running = true;
  const options = { durable: ext.durable, running: () => running };
  const messaging = new Messaging(config.amqp, log);
  // One message at a time per kind keeps each request's messages in order.
  messaging.consumeQueue(
    Names.buildStateEvents,
    createRepublisher(buildSender, buildStateProperties, options, log),
    { concurrency: 1 },
  );
  messaging.consumeQueue(
    Names.batchStateEvents,
    createRepublisher(batchSender, batchStateProperties, options, log),
    { concurrency: 1 },
  );
  return [
    shutdownTracing,
    async () => {
      buildSender?.close();
      batchSender?.close();
      await external?.close();
    },
    async () => {
      running = false;
      await messaging.close(10_000);
    },
  ];
});

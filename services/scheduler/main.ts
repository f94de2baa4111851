import { loadSchedulerConfig, loadOrExit } from '../../shared/config';
import { maybeStartHealthListener } from '../../shared/health';
import { runService } from '../../shared/lifecycle';
import { createLogger } from '../../shared/logging';
import { laneQueue, Messaging, Names } from '../../shared/messaging';
import { shutdownTracing } from '../../shared/tracing';
import { allLanes, parseUserToQueue } from './lane-router';
import { createDeadLetterHandler } from './dead-letter-handler';
import { createRouteHandler } from './route-handler';

const config = loadOrExit(() => loadSchedulerConfig());
// A bad map is refused before anything connects, with the key it trips on.
const userToQueue = loadOrExit(() => parseUserToQueue(config.userToQueue));
const log = createLogger('scheduler', config.logLevel);

void runService(log, async () => {
  const messaging = new Messaging(config.amqp, log);
  const maxDeliveries = config.amqp.maxDeliveries;
  // Declare every lane up front so builders can attach before the first request.
  for (const lane of allLanes(userToQueue, config.defaultLane)) {
    for (const serial of [true, false]) {
      messaging
        .ensureQueue(laneQueue(serial, lane), { exclusive: serial, maxDeliveries })
        .catch((err: unknown) => log.warn({ lane, err }, 'lane not declared yet; it will be on first use'));
    }
  }
  messaging.consumeQueue(
    Names.requests,
    createRouteHandler({ messaging, userToQueue, defaultLane: config.defaultLane, maxDeliveries, log }),
    { concurrency: 16 },
  );
  messaging.consumeQueue(Names.deadLetter, createDeadLetterHandler({ messaging, maxDeliveries, log }), {
    concurrency: 4,
  });
  const health = await maybeStartHealthListener(
    config.health,
    { broker: () => messaging.connection.up },
    log,
  );
  return [shutdownTracing, health, () => messaging.close()];
});

import * as os from 'node:os';
import { loadBuilderConfig, loadOrExit } from '../../shared/config';
import { runService } from '../../shared/lifecycle';
import { createLogger } from '../../shared/logging';
import { laneQueue, Messaging } from '../../shared/messaging';
import { shutdownTracing } from '../../shared/tracing';
import { createBuildHandler } from './build-handler';
import { createEmptyIndex } from './pipelines/create-empty-index';

const config = loadOrExit(() => loadBuilderConfig());
const builderId = config.builderId ?? `${os.hostname()}-${process.pid}`;
const log = createLogger('builder', config.logLevel).child({ builder: builderId });

void runService(
  log,
  async () => {
    const messaging = new Messaging(config.amqp, log);
    const handler = createBuildHandler({
      config,
      builderId,
      messaging,
      pipelines: { 'create-empty-index': createEmptyIndex },
      log,
    });
    for (const lane of config.lanes) {
      const queue = laneQueue(lane.serial, lane.lane);
      // A serial lane: one request at a time here, and one consumer at a time across builders.
      messaging.consumeQueue(
        queue,
        handler,
        { concurrency: lane.serial ? 1 : config.concurrency, retryBaseDelayMs: 1000 },
        { exclusive: lane.serial },
      );
      log.info({ queue, serial: lane.serial }, 'consuming lane');
    }
    return [shutdownTracing, () => messaging.close(120_000)];
  },
  { graceMs: 150_000 },
);

import * as os from 'node:os';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { loadBuilderConfig, loadOrExit } from '../../shared/config';
import { maybeStartHealthListener } from '../../shared/health';
import { runService } from '../../shared/lifecycle';
import { createLogger } from '../../shared/logging';
import { laneQueue, Messaging } from '../../shared/messaging';
import { shutdownTracing } from '../../shared/tracing';
import { createBuildHandler } from './lane/build-handler';
import { killRunningTools } from './tools/command-runner';
import { armFaultPoint } from './tools/fault-points';
import { FinalStates } from './lane/final-states';
import { PIPELINES } from './pipelines';
import { claimWorkRoot } from './workspace/work-root';

const config = loadOrExit(() => loadBuilderConfig());
const builderId = config.builderId ?? `${os.hostname()}-${process.pid}`;
const log = createLogger('builder', config.logLevel).child({ builder: builderId });

void runService(
  log,
  async () => {
    armFaultPoint(config.faultPoint);
    const workRoot = await claimWorkRoot(
      config.workDir ?? path.join(os.tmpdir(), 'iib-builder'),
      config.amqp.namespace,
      log,
    );
    const messaging = new Messaging(config.amqp, log);
    const finals = new FinalStates(messaging, log);
    finals.start();
    const handler = createBuildHandler({
      config,
      builderId,
      workRoot,
      messaging,
      finals,
      maxDeliveries: config.amqp.maxDeliveries,
      pipelines: PIPELINES,
      log,
    });
    for (const lane of config.lanes) {
      const queue = laneQueue(lane.serial, lane.lane);
      // A serial lane: one request at a time here, and one consumer at a time
      // across builders. Every lane counts deliveries on the broker, so a
      // request whose builders keep dying is failed, not retried forever.
      messaging.consumeQueue(
        queue,
        handler,
        { concurrency: lane.serial ? 1 : config.concurrency, retryBaseDelayMs: 1000 },
        { exclusive: lane.serial, maxDeliveries: config.amqp.maxDeliveries },
      );
      log.info({ queue, serial: lane.serial }, 'consuming lane');
    }
    // On SIGTERM: intake stops, the build in hand gets stopGraceMs to finish,
    // then its lane message goes back to the broker for another builder.
    // Run in reverse: the tools of a build that outlived the grace die with
    // the builder; its directory goes too (its lane message is back on the broker).
    const health = await maybeStartHealthListener(
      config.health,
      { broker: () => messaging.connection.up },
      log,
    );
    return [
      shutdownTracing,
      health,
      () => rm(workRoot, { recursive: true, force: true }),
      () => Promise.resolve(killRunningTools()),
      () => messaging.close(config.stopGraceMs),
      () => finals.stop(),
    ];
  },
  { graceMs: config.stopGraceMs + 30_000 },
);

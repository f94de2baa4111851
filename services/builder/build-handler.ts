import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { BuilderConfig } from '../../shared/config';
import { attemptsExhaustedReason, parseBuildRequestEvent, RequestType } from '../../shared/contracts';
import { errorMessage } from '../../shared/errors';
import { InboundMessage, isRetryable, Messaging, Names } from '../../shared/messaging';
import type { Pipeline } from './build-context';
import { Buildah } from './buildah';
import { CommandRunner } from './command-runner';
import { Images } from './images';
import { AnnouncingReporter } from './announcing-reporter';
import type { FinalStates } from './final-states';

export interface BuildHandlerDeps {
  config: Pick<
    BuilderConfig,
    | 'registry'
    | 'workDir'
    | 'commandTimeoutMs'
    | 'totalAttempts'
    | 'retryDelayMs'
    | 'retryJitterMs'
    | 'retryMultiplier'
  >;
  builderId: string;
  messaging: Messaging;
  finals: FinalStates;
  /** Deliveries of a lane message before its request is failed (IIB_AMQP_MAX_DELIVERIES). */
  maxDeliveries: number;
  pipelines: Partial<Record<RequestType, Pipeline>>;
  binaryImageConfig?: Record<string, Record<string, string>>;
  log: Logger;
}

/**
 * Runs one request from a lane. A build failure ends the request `failed`
 * with the reason; a broker failure while reporting is retryable, so the
 * lane message is released and the request runs again elsewhere.
 */
export function createBuildHandler(deps: BuildHandlerDeps) {
  const base = deps.config.workDir ?? path.join(os.tmpdir(), 'iib-builder');
  return async (message: InboundMessage): Promise<void> => {
    const event = parseBuildRequestEvent(message.body);
    const log = deps.log.child({ requestId: event.id, requestType: event.request_type });
    const sender = await deps.messaging.queueSender(Names.stateUpdates);
    const reporter = new AnnouncingReporter(sender, event.id, deps.builderId, deps.finals);
    const known = deps.finals.stateOf(event.id);
    if (known) {
      // It ended while this message was out (its builder died before settling it): nothing to build.
      log.info({ state: known }, 'request already final, settling without building');
      return;
    }
    if (message.deliveryCount >= deps.maxDeliveries) {
      // Brokers that count redeliveries in the AMQP header (ActiveMQ) end up
      // here; RabbitMQ's quorum lanes dead-letter instead (the scheduler fails those).
      log.warn({ deliveries: message.deliveryCount }, 'delivery limit reached, failing the request');
      await reporter.state('failed', attemptsExhaustedReason(message.deliveryCount));
      return;
    }
    await mkdir(base, { recursive: true });
    const workDir = await mkdtemp(path.join(base, `request-${event.id}-`));
    const runner = new CommandRunner(
      {
        attempts: deps.config.totalAttempts,
        delayMs: deps.config.retryDelayMs,
        jitterMs: deps.config.retryJitterMs,
        multiplier: deps.config.retryMultiplier,
      },
      deps.config.commandTimeoutMs,
      (line) => reporter.log(line),
    );
    const attempts = deps.config.totalAttempts;
    const buildah = new Buildah(runner, { attempts });
    const ctx = {
      event,
      params: event.params,
      workDir,
      reporter,
      images: new Images(runner, {
        skopeoTimeout: `${Math.round(deps.config.commandTimeoutMs / 1000)}s`,
        attempts,
        maxExtractBytes: 2 * 1024 * 1024 * 1024,
      }),
      buildah,
      registry: deps.config.registry,
      binaryImageConfig: deps.binaryImageConfig,
      log,
      localTags: [] as string[],
    };
    log.info({ lane: event.lane }, 'build started');
    try {
      const pipeline = deps.pipelines[event.request_type];
      if (!pipeline) {
        await reporter.state(
          'failed',
          `The request type ${event.request_type} is not supported by this builder`,
        );
        return;
      }
      await pipeline(ctx);
      log.info('build finished');
    } catch (err) {
      if (isRetryable(err)) {
        log.warn({ err: errorMessage(err) }, 'build interrupted by a dependency failure, releasing it');
        throw err;
      }
      const reason = errorMessage(err);
      log.error({ reason }, 'build failed');
      await reporter.state('failed', reason);
    } finally {
      await reporter.flush().catch(() => undefined);
      await buildah.removeImages(ctx.localTags);
      await rm(workDir, { recursive: true, force: true });
    }
  };
}

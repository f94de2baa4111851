import type { Logger } from 'pino';
import type { BuilderConfig } from '../../../shared/config';
import {
  attemptsExhaustedReason,
  isFinal,
  parseBuildRequestEvent,
  RequestType,
} from '../../../shared/contracts';
import { errorMessage } from '../../../shared/errors';
import { InboundMessage, isRetryable, Messaging, Names } from '../../../shared/messaging';
import { BuildOutcome, startBuild } from '../../../shared/metrics';
import { reachFaultPoint } from '../tools/fault-points';
import type { Pipeline } from '../workspace/build-context';
import { RequestWorkspace, type WorkspaceConfig } from '../workspace/request-workspace';
import { AnnouncingReporter } from './announcing-reporter';
import type { FinalStates } from './final-states';

export interface BuildHandlerDeps {
  config: WorkspaceConfig & Pick<BuilderConfig, 'workDir' | 'stateQueryTimeoutMs'>;
  /** This builder's own directory for request work dirs (see claimWorkRoot). */
  workRoot: string;
  builderId: string;
  messaging: Messaging;
  finals: FinalStates;
  /** Deliveries of a lane message before its request is failed (IIB_AMQP_MAX_DELIVERIES). */
  maxDeliveries: number;
  pipelines: Partial<Record<RequestType, Pipeline>>;
  log: Logger;
}

/**
 * Runs one request from a lane and settles it: a request already final is
 * not built again, one past its delivery limit fails, a build failure ends
 * the request `failed` with the reason, and a broker failure while reporting
 * is retryable, so the lane message is released and the request runs again
 * elsewhere. The request's directory, secrets and tools are its workspace's.
 */
export function createBuildHandler(deps: BuildHandlerDeps) {
  const base = deps.workRoot;
  return async (message: InboundMessage): Promise<void> => {
    const event = parseBuildRequestEvent(message.body);
    const log = deps.log.child({ requestId: event.id, requestType: event.request_type });
    const sender = await deps.messaging.queueSender(Names.stateUpdates);
    const reporter = new AnnouncingReporter(sender, event.id, deps.builderId, deps.finals);
    // A final state is final: a request that ended while this message was out
    // (its builder died after reporting, before settling) is not built again.
    const known = await deps.finals.recordedState(event.id, deps.builderId, deps.config.stateQueryTimeoutMs);
    if (known === undefined) {
      log.warn('the recorded state of the request is unknown (no answer in time), building it');
    } else if (isFinal(known)) {
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
    const workspace = await RequestWorkspace.create(event, deps.config, base, reporter, log);
    const started = Date.now();
    log.info({ lane: event.lane }, 'build started');
    const endBuild = startBuild(event.request_type);
    // A build ends "complete" unless a failed state was reported or it was released.
    let outcome: BuildOutcome = 'complete';
    try {
      const ctx = await workspace.open();
      const pipeline = deps.pipelines[event.request_type];
      if (!pipeline) {
        outcome = 'failed';
        await reporter.state(
          'failed',
          `The request type ${event.request_type} is not supported by this builder`,
        );
        return;
      }
      reachFaultPoint('before-first-tool');
      await pipeline(ctx);
      log.info({ durationMs: Date.now() - started }, 'build finished');
      reachFaultPoint('after-final-state');
    } catch (err) {
      if (isRetryable(err)) {
        outcome = 'released';
        log.warn({ err }, 'build interrupted by a dependency failure, releasing it');
        throw err;
      }
      const reason = workspace.withoutPaths(errorMessage(err));
      log.error({ reason, err, durationMs: Date.now() - started }, 'build failed');
      outcome = 'failed';
      await reporter.state('failed', reason);
    } finally {
      endBuild(outcome);
      await reporter.flush().catch(() => undefined);
      await workspace.close();
    }
  };
}

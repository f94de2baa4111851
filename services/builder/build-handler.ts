import { mkdtemp, rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { BuilderConfig } from '../../shared/config';
import {
  attemptsExhaustedReason,
  isFinal,
  parseBuildRequestEvent,
  RequestType,
} from '../../shared/contracts';
import { SecretBox } from '../../shared/crypto';
import { errorMessage, ValidationError } from '../../shared/errors';
import { InboundMessage, isRetryable, Messaging, Names } from '../../shared/messaging';
import type { BuildContext, Pipeline, PipelineConfig, RequestSecrets } from './build-context';
import { Buildah } from './buildah';
import { CommandRunner } from './command-runner';
import { Images } from './images';
import { extractLimits } from './layer-extractor';
import { AnnouncingReporter } from './announcing-reporter';
import { tokenSecrets, writeOverwriteAuthFile, writePullAuthFile } from './registry-auth';
import { reachFaultPoint } from './fault-points';
import type { FinalStates } from './final-states';
import { BuildOutcome, startBuild } from '../../shared/metrics';

export interface BuildHandlerDeps {
  config: PipelineConfig &
    Pick<
      BuilderConfig,
      | 'workDir'
      | 'commandTimeoutMs'
      | 'totalAttempts'
      | 'retryDelayMs'
      | 'retryJitterMs'
      | 'retryMultiplier'
      | 'secretsKey'
      | 'dockerConfigTemplate'
      | 'stateQueryTimeoutMs'
    >;
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
 * Runs one request from a lane. A build failure ends the request `failed`
 * with the reason; a broker failure while reporting is retryable, so the
 * lane message is released and the request runs again elsewhere.
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
    const workDir = await mkdtemp(path.join(base, `request-${event.id}-`));
    const localTags: string[] = [];
    const policy = {
      attempts: deps.config.totalAttempts,
      delayMs: deps.config.retryDelayMs,
      jitterMs: deps.config.retryJitterMs,
      multiplier: deps.config.retryMultiplier,
    };
    const newRunner = (secrets: string[]): CommandRunner =>
      new CommandRunner(policy, deps.config.commandTimeoutMs, (line) => reporter.log(line), secrets);
    const cleanup = new Buildah(newRunner([]), { attempts: 1 });
    const started = Date.now();
    log.info({ lane: event.lane }, 'build started');
    const endBuild = startBuild(event.request_type);
    // A build ends "complete" unless a failed state was reported or it was released.
    let outcome: BuildOutcome = 'complete';
    try {
      const secrets = openSecrets(event.sealed_secrets, event.id, deps.config.secretsKey);
      const runner = newRunner([
        ...tokenSecrets(secrets.overwrite_from_index_token),
        ...tokenSecrets(secrets.overwrite_target_index_token),
        ...Object.values(secrets.registry_auths?.auths ?? {}).flatMap((a) =>
          a.auth ? [a.auth, ...tokenSecrets(Buffer.from(a.auth, 'base64').toString('utf8'))] : [],
        ),
      ]);
      const pullAuth = await writePullAuthFile(
        workDir,
        deps.config.dockerConfigTemplate,
        secrets.registry_auths,
      );
      // As IIB does, an overwrite token also reads the index it will overwrite
      // (which may be private); it is scoped to that one repository, in this request's file.
      const overwrite = overwriteTarget(event.params, secrets);
      const authFile = overwrite
        ? await writeOverwriteAuthFile(
            workDir,
            pullAuth ?? deps.config.dockerConfigTemplate,
            overwrite.target,
            overwrite.token,
          )
        : pullAuth;
      const attempts = deps.config.totalAttempts;
      const ctx: BuildContext = {
        event,
        params: event.params,
        secrets,
        workDir,
        reporter,
        runner,
        authFile,
        images: new Images(runner, {
          skopeoTimeout: `${Math.round(deps.config.commandTimeoutMs / 1000)}s`,
          attempts,
          extractLimits: extractLimits(deps.config),
          authFile,
        }),
        buildah: new Buildah(runner, { attempts, authFile }),
        config: deps.config,
        registry: deps.config.registry,
        binaryImageConfig: deps.config.binaryImageConfig,
        log,
        localTags,
      };
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
      // The submitter sees the reason: it names files by their place in the
      // request, never by the builder's own directories.
      const reason = errorMessage(err).split(workDir).join('').split(base).join('');
      log.error({ reason, err, durationMs: Date.now() - started }, 'build failed');
      outcome = 'failed';
      await reporter.state('failed', reason);
    } finally {
      endBuild(outcome);
      await reporter.flush().catch(() => undefined);
      await cleanup.removeImages(localTags);
      await rm(workDir, { recursive: true, force: true });
    }
  };
}

function openSecrets(sealed: string | undefined, id: number, key: string | undefined): RequestSecrets {
  if (!sealed) return {};
  if (!key) {
    throw new ValidationError(
      'The request carries credentials but this builder has no IIB_SECRETS_KEY to open them',
    );
  }
  return new SecretBox(key).open<RequestSecrets>(sealed, `iib-request:${id}`);
}

/** The index a request may overwrite and the token to do it with, if any. */
function overwriteTarget(
  params: Record<string, unknown>,
  secrets: RequestSecrets,
): { target: string; token: string } | undefined {
  if (secrets.overwrite_from_index_token && typeof params.from_index === 'string') {
    return { target: params.from_index, token: secrets.overwrite_from_index_token };
  }
  if (secrets.overwrite_target_index_token && typeof params.target_index === 'string') {
    return { target: params.target_index, token: secrets.overwrite_target_index_token };
  }
  return undefined;
}

import { mkdtemp, rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { BuilderConfig } from '../../../shared/config';
import type { BuildRequestEvent } from '../../../shared/contracts';
import { SecretBox } from '../../../shared/crypto';
import { ValidationError } from '../../../shared/errors';
import { Buildah } from '../tools/buildah';
import { CommandRunner } from '../tools/command-runner';
import { Images } from '../tools/images';
import { extractLimits } from '../tools/layers/layer-extractor';
import { tokenSecrets, writeOverwriteAuthFile, writePullAuthFile } from '../tools/registry-auth';
import type { BuildContext, PipelineConfig, RequestSecrets } from './build-context';
import type { RequestReporter } from './tools';

/** The builder settings a request workspace reads. */
export type WorkspaceConfig = PipelineConfig &
  Pick<
    BuilderConfig,
    | 'commandTimeoutMs'
    | 'totalAttempts'
    | 'retryDelayMs'
    | 'retryJitterMs'
    | 'retryMultiplier'
    | 'secretsKey'
    | 'dockerConfigTemplate'
  >;

/**
 * One request's workspace: its own directory under the builder's work root,
 * its secrets, the auth file of its pulls (and of an overwrite), and the
 * tools that use them. create() makes the directory, open() the rest (a
 * failure there is the request's); close() removes the local images and the
 * directory with everything in it, tokens included.
 */
export class RequestWorkspace {
  private readonly localTags: string[] = [];

  private constructor(
    private readonly event: BuildRequestEvent,
    private readonly config: WorkspaceConfig,
    private readonly workRoot: string,
    readonly workDir: string,
    private readonly reporter: RequestReporter,
    private readonly log: Logger,
  ) {}

  static async create(
    event: BuildRequestEvent,
    config: WorkspaceConfig,
    workRoot: string,
    reporter: RequestReporter,
    log: Logger,
  ): Promise<RequestWorkspace> {
    const workDir = await mkdtemp(path.join(workRoot, `request-${event.id}-`));
    return new RequestWorkspace(event, config, workRoot, workDir, reporter, log);
  }

  /** Opens the secrets, writes the auth file and gives the pipeline its context. */
  async open(): Promise<BuildContext> {
    const { event, config, workDir } = this;
    const secrets = openSecrets(event.sealed_secrets, event.id, config.secretsKey);
    const runner = this.runner(maskedSecrets(secrets));
    const pullAuth = await writePullAuthFile(workDir, config.dockerConfigTemplate, secrets.registry_auths);
    // As IIB does, an overwrite token also reads the index it will overwrite
    // (which may be private); it is scoped to that one repository, in this request's file.
    const overwrite = overwriteTarget(event.params, secrets);
    const authFile = overwrite
      ? await writeOverwriteAuthFile(
          workDir,
          pullAuth ?? config.dockerConfigTemplate,
          overwrite.target,
          overwrite.token,
        )
      : pullAuth;
    const attempts = config.totalAttempts;
    return {
      event,
      params: event.params,
      secrets,
      workDir,
      reporter: this.reporter,
      authFile,
      images: new Images(runner, {
        skopeoTimeout: `${Math.round(config.commandTimeoutMs / 1000)}s`,
        attempts,
        extractLimits: extractLimits(config),
        authFile,
      }),
      buildah: new Buildah(runner, { attempts, authFile }),
      config,
      registry: config.registry,
      binaryImageConfig: config.binaryImageConfig,
      log: this.log,
      localTags: this.localTags,
    };
  }

  /** A message as the submitter may see it: files named by their place in the request, never by the builder's own directories. */
  withoutPaths(message: string): string {
    return message.split(this.workDir).join('').split(this.workRoot).join('');
  }

  /** Removes the request's local images and its directory. Never throws for the images. */
  async close(): Promise<void> {
    await new Buildah(this.runner([]), { attempts: 1 }).removeImages(this.localTags);
    await rm(this.workDir, { recursive: true, force: true });
  }

  private runner(secrets: string[]): CommandRunner {
    const policy = {
      attempts: this.config.totalAttempts,
      delayMs: this.config.retryDelayMs,
      jitterMs: this.config.retryJitterMs,
      multiplier: this.config.retryMultiplier,
    };
    return new CommandRunner(
      policy,
      this.config.commandTimeoutMs,
      (line) => this.reporter.log(line),
      secrets,
    );
  }
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

/** The strings to mask in logs and spans: the tokens and registry auths of the request. */
function maskedSecrets(secrets: RequestSecrets): string[] {
  return [
    ...tokenSecrets(secrets.overwrite_from_index_token),
    ...tokenSecrets(secrets.overwrite_target_index_token),
    ...Object.values(secrets.registry_auths?.auths ?? {}).flatMap((a) =>
      a.auth ? [a.auth, ...tokenSecrets(Buffer.from(a.auth, 'base64').toString('utf8'))] : [],
    ),
  ];
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
